"""Lambda's concurrency quota per account and region, as the local cloud enforces it. No moto here: the command
line (`local-cloud --lambda-concurrency`) reads these too, and moto is an optional extra.

AWS Lambda, "Configuring reserved concurrency for a function": "You can reserve up to the Unreserved account
concurrency value that is shown, minus 100 for functions that don't have reserved concurrency." An account whose
quota is below 100 keeps all of it unreserved: a new account's quota is 10, and any reservation there fails with
"Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its
minimum value of [10]." (the same message reads [50] on an account whose quota is 50). So the minimum left
unreserved is 100, or the whole quota when that is smaller.
"""

from __future__ import annotations

# Lambda's default concurrent executions per account and region ("Lambda quotas": 1,000).
DEFAULT_ACCOUNT_CONCURRENCY = 1000
# What a new account is given.
NEW_ACCOUNT_CONCURRENCY = 10
# Lambda keeps this much of a larger quota unreserved, for the functions without a reservation.
DOCUMENTED_MINIMUM_UNRESERVED = 100


def minimum_unreserved(account_concurrency: int) -> int:
    """The unreserved concurrency Lambda keeps in an account and region with this quota."""
    return min(DOCUMENTED_MINIMUM_UNRESERVED, account_concurrency)


def reservation_refusal(account_concurrency: int, reserved_elsewhere: int, requested: int) -> str | None:
    """Lambda's message when reserving `requested` for a function, with `reserved_elsewhere` reserved by the
    account's other functions in that region, would leave too little unreserved; None when it is allowed."""
    minimum = minimum_unreserved(account_concurrency)
    if account_concurrency - reserved_elsewhere - requested >= minimum:
        return None
    return (
        "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
        f"below its minimum value of [{minimum}]."
    )
