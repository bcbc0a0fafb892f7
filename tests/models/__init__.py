"""Decision tests for gateway.models (placement, admission, cache policy, loads) on plain
objects: no processes, no sockets."""
