"""The local UDP Gateway: real UDP on loopback, the real handler code; the one data plane of `make local` and of
the local cloud's listeners.

gateway (sockets, batching, replies), sources (what a gateway serves: a fixed config, or what the local cloud
has deployed, asked at every batch), routing (which region serves: Proxylity's order), function_pool +
function_process + lambda_runtime (each function's execution environments, in processes of their own), control
(failover commands) and canary_schedule (the canary beside `make local`).
"""
