"""What is shown: one renderer-neutral table model (tables.py), each section built once
from a live or a stored run (sections.py), and the layouts that only lay it out: HTML,
markdown, plain text and the notebook's MIME bundles; the postmortem."""
