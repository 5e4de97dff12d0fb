"""A local stand-in for Proxylity UDP Gateway: real UDP on loopback, the real handler code.

routing (which region serves), lambda_runtime + function_process (the per-region
function), gateway (sockets, batching, replies), control (failover commands), and
handler_code (the code, from the rendered regional template).
"""
