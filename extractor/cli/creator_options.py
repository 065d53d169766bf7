"""The command-line options of the creator features: splitting, silence, source times, time limits,
the waveform picture. Shared by `vax extract` and the commands built on it."""

from __future__ import annotations

import click


def creator_options(func):
    options = [
        click.option("--split-chapters", is_flag=True,
                     help="One file per chapter of the source (MP4/M4B, Matroska, Ogg, MP3 CHAP), named "
                          "'{stem} - {chapter:02d} - {chapter_title}.{ext}' unless -o gives a template."),
        click.option("--split-at", metavar="TIMES|FILE",
                     help="One file per piece starting at these times ('1:00,2:30'), or at the times of a text "
                          "file of '00:00 Intro' lines as pasted from a video description."),
        click.option("--split-on-silence", is_flag=True,
                     help="Cut at silences (see --silence-threshold, --min-silence, --min-piece, --max-piece)."),
        click.option("--trim-silence", is_flag=True, help="Remove leading and trailing silence, to the sample."),
        click.option("--silence-threshold", type=float, metavar="DBFS",
                     help="Audio under this level counts as silence (default -50 dBFS)."),
        click.option("--min-silence", metavar="SECONDS", help="Shortest silence that counts (default 0.5 s)."),
        click.option("--min-piece", metavar="SECONDS", help="Split on silence: no piece shorter than this."),
        click.option("--max-piece", metavar="SECONDS", help="Split on silence: no piece longer than this."),
        click.option("--keep-mtime", is_flag=True, help="Give each output the source file's modification time."),
        click.option("--timeout", metavar="SECONDS",
                     help="Stop a job that runs longer than this (a file that stalls a decoder), exit 14."),
        click.option("--waveform", metavar="PNG",
                     help="Also draw the output's waveform into this PNG (with several outputs, one PNG each, "
                          "named after the output)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def creator_spec_options(kw: dict) -> dict:
    """JobSpec.build keywords for the options above."""
    from extractor.errors import UsageError
    from extractor.pieces import parse_split_at

    splits = [name for name, on in (("chapters", kw.get("split_chapters")), ("times", kw.get("split_at")),
                                    ("silence", kw.get("split_on_silence"))) if on]
    if len(splits) > 1:
        raise UsageError("choose one of --split-chapters, --split-at and --split-on-silence")
    return {
        "split": splits[0] if splits else None,
        "split_points": parse_split_at(kw["split_at"]) if kw.get("split_at") else (),
        "trim_silence": bool(kw.get("trim_silence")),
        "silence_threshold": kw.get("silence_threshold"),
        "silence_min": kw.get("min_silence"),
        "piece_min": kw.get("min_piece"),
        "piece_max": kw.get("max_piece"),
        "keep_mtime": bool(kw.get("keep_mtime")),
        "timeout": kw.get("timeout"),
        "waveform": kw.get("waveform"),
    }
