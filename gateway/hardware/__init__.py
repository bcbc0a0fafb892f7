"""What this machine has: GPUs through NVML, cores, memory and disk through psutil.

A machine without the NVIDIA library has no GPU: never a crash. May import: protocol.
"""
