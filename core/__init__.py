"""The bottom layer: infrastructure every app may import (the Redis cache backend and its
client helpers). It imports no app of the project."""
