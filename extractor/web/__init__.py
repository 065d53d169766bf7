"""`vax serve`: a local web page to add videos, say what you want, and get the audio.

``app.create_app(workspace, token=...)`` builds the ASGI app; ``session`` keeps the
workspace's files, jobs and results on disk; ``jobs`` runs each extraction in its own
killable worker process; ``worker`` is that process; ``waveform`` draws result pictures.
"""
