"""The script mitmdump loads (`mitmdump -s proxy/shadow.py`, with the repository root on PYTHONPATH)."""

from proxy.addon import ShadowAddon

addons = [ShadowAddon()]
