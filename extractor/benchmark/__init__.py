"""`vax bench`: the same job spec through two engines on the user's own files, side by side.

    runner.py    rounds of runs through the one pipeline (``extractor.api.run_spec``), each
                 timed phase by phase (``recorder.py``), and the reference (ffmpeg or the cloud)
    recorder.py  wraps the engines the pipeline looks up, to keep what each one reports
    reference.py Debian's ffmpeg CLI as the local reference: the plan as an ffmpeg command
    compare.py   two outputs compared: format, duration, and the decoded audio (streamed)
    report.py    the table, the JSON and the optional chart (matplotlib)

An interface-level package: it sits beside the batch runner, above the public API, and
never runs a job by any other way than the pipeline.
"""
