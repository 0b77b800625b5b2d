"""One publish/subscribe interface for events between SafeCity's parts.

Topics are MQTT-style (`cameras/AST-00001/health`, patterns with `+` and `#`), so the
in-process bus of the embedded mode and an MQTT broker in a multi-node city are interchangeable.
"""

from safecity.bus.core import Bus, Handler, Message, Subscription, topic_matches
from safecity.bus.memory import InProcessBus

__all__ = ["Bus", "Handler", "InProcessBus", "Message", "Subscription", "topic_matches"]
