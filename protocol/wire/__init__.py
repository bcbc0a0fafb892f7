"""The engine wire: the messages between the gateway and its workers (msgpack over ZeroMQ)
and the exit codes a worker process ends with. Clients never see these shapes.
"""
