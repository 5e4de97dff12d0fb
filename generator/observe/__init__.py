"""observe/: watching a deployment from here: the canary run once against any endpoint (canary), and the
functions' logs of every region merged in time order (logs). The engine returns data and reports through
callbacks; generator/cli/observe_commands.py prints."""
