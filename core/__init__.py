"""The bottom layer: infrastructure every app may import (the Redis cache backend and its
client helpers) and the publisher's identity every channel shows (``core.identity``). It
imports no app of the project."""
