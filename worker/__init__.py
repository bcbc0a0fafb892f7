"""A worker: one process per device that owns its models and runs their inference.

`python -m worker` (see __main__). Top level: the I/O thread and its socket (`server`,
`outbox`, `curve_client`), the device and memory (`devices`, `memory`, `memory_cap`,
`memory_admission`), how speech models decode (`decode_plan`), dying with the gateway
(`parent_death`).
Sub-packages: `engines/` (the inference libraries), `models/` (the models this worker
holds), `scheduling/` (lanes, batches, runners). Never imports `gateway`.
"""
