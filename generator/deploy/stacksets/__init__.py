"""deploy/stacksets/: the engine of a config with a `stacksets:` section (StackSetEngine), through
CloudFormation StackSets in the administrator account (the caller) instead of change sets per stack. Reached
through generator.deploy.engine_for; nothing outside deploy/ imports this package.

specs (the two StackSets and their instances), customer_config (each account's Proxylity values, its
instances' parameter overrides), instance_states (what an instance's status means),
operations (one StackSet operation, watched), converge (a StackSet made what its spec says), instance_outputs
(each instance's stack read in its own account), deploy_stacksets, plan_stacksets, inventory_stacksets,
destroy_stacksets, stackset_engine. Events and results are the per-stack ones, each instance's with its account.
"""
