"""The script mitmdump loads (`mitmdump -s proxy/shadow.py`, with the repository root on PYTHONPATH)."""

from proxy.addon import ShadowAddon
from proxy.control import ControlApi

shadow = ShadowAddon()
# The control API first: it answers the control listener's flows, which the shadow addon's guard then leaves alone.
addons = [ControlApi(shadow), shadow]
