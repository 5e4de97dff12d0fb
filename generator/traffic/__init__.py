"""traffic/: the smoke client (smoke), its report (report), where it sends (endpoint), and the open-file limit its
sockets stay under (open_files)."""
