"""Backdoor specs, data, injection and the attack organisms."""
