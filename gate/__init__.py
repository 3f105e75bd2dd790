"""gate: may this image ship? A policy-as-code release gate for EC2 Image Builder scan findings."""

__version__ = "0.1.0"
