"""Offline stand-ins for what a deploy reaches: gateway/ (the local UDP Gateway) and cloud/ (the local AWS endpoint
and Proxylity stand-in); lambda_quotas, the Lambda quotas the local cloud enforces, importable without moto."""
