"""Perennial's stand-in for the parts of Shopify the app talks to.

A plain package (standard library, requests and PyJWT; no Django) so it is an independent
other side of the protocol. See docs/standin.md.
"""

from .server import Standin, start

__all__ = ["Standin", "start"]
