"""One job, several pieces: split by chapters, at given times or at silences; trim silence.

Each piece is an ordinary job spec with a range, planned by the ordinary planner, so every
piece goes through the same engine, verification and atomic publishing as any output. This
module decides the ranges and the names; ``plan_all`` is what the pipeline plans with.

Times: chapters are container times and silences are times from the track's first sample;
both are moved onto the output timeline (t=0 is the video's start, or the track's first
sample with --drop-offset), where --start and --end live.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError
from .jobspec import JobSpec
from .naming import safe_field
from .planner import Plan, plan_jobs, select_tracks

CHAPTER_TEMPLATE = "{stem} - {chapter:02d} - {chapter_title}.{ext}"
PIECE_TEMPLATE = "{stem} - {piece:02d}.{ext}"
_PIECE_FIELD = re.compile(r"\{(chapter|piece)(:[^{}]*)?\}|\{(chapter_title|piece_title)\}")
MIN_PIECE = 0.05  # seconds: a shorter piece (an empty chapter) is no file


@dataclass(frozen=True)
class Piece:
    number: int  # from 1
    start: float  # output timeline
    end: float | None  # None: to the end
    title: str | None = None


def plan_all(spec: JobSpec, info) -> list[Plan]:
    """The plans of a spec: one per track, or one per piece when the spec splits or trims."""
    if not (spec.split or spec.trim_silence):
        return plan_jobs(spec, info)
    track = select_tracks(spec, info)[0]
    if spec.tracks.all:
        raise UsageError("splitting works on one track at a time", hint="choose one with --track or --lang")
    pieces = _pieces(spec, info, track)
    if spec.trim_silence and not spec.split:
        only = pieces[0]
        return plan_jobs(_ranged(spec, only), info)
    plans = []
    for piece in pieces:
        piece_spec = _ranged(spec, piece).replace(output=_piece_output(spec, info, piece))
        plan = plan_jobs(piece_spec, info)[0]
        tags = {**plan.tags, "track": f"{piece.number}/{len(pieces)}"}
        if piece.title:
            tags["title"] = piece.title
        plans.append(dataclasses.replace(plan, tags=tags))
    return plans


def _ranged(spec: JobSpec, piece: Piece) -> JobSpec:
    # A piece is cut to the sample unless the user chose a stream copy at packet boundaries.
    return spec.replace(start=piece.start or None, end=piece.end, duration=None, split=None, split_points=(),
                        trim_silence=False, exact=spec.exact or spec.trim_silence or spec.split == "silence")


def _pieces(spec: JobSpec, info, track) -> list[Piece]:
    lo, hi = spec.start or 0.0, spec.range_end
    if spec.split == "chapters":
        found = _chapter_pieces(info, track, spec)
        if not found:
            raise UsageError(f"{info.path} has no chapters", hint="give the times with --split-at")
    elif spec.split == "times":
        found = _pieces_at(spec.split_points)
    else:
        found = _silence_pieces(spec, info, track)
    clipped = []
    for piece in found:
        start, end = max(piece.start, lo), _min_end(piece.end, hi)
        if end is None or end - start >= MIN_PIECE:
            clipped.append(Piece(len(clipped) + 1, start, end, piece.title))
    if not clipped:
        raise UsageError("no piece is left inside the requested range")
    return clipped


def _min_end(a: float | None, b: float | None) -> float | None:
    ends = [x for x in (a, b) if x is not None]
    return min(ends) if ends else None


def _timeline_origin(spec: JobSpec, track) -> float:
    """Source seconds that are t=0 of the output timeline."""
    return track.start - (track.offset if spec.keep_offset else 0.0)


def _chapter_pieces(info, track, spec: JobSpec) -> list[Piece]:
    """The probe's chapters (MP4/M4B, Matroska, Ogg, ID3 CHAP) on the output timeline, in order."""
    origin = _timeline_origin(spec, track)
    pieces = []
    for chapter in sorted(info.chapters, key=lambda c: c.start):
        pieces.append(Piece(len(pieces) + 1, max(0.0, chapter.start - origin), chapter.end - origin, chapter.title))
    if pieces:
        pieces[-1] = dataclasses.replace(pieces[-1], end=None)  # the last chapter runs to the end of the audio
    return pieces


def _pieces_at(points) -> list[Piece]:
    """--split-at: each point starts a piece; the first piece starts at 0 if no point does."""
    starts = sorted(points, key=lambda p: p[0])
    if not starts or starts[0][0] > 0:
        starts = [(0.0, None), *starts]
    pieces = []
    for (at, title), following in zip(starts, [*starts[1:], (None, None)]):
        pieces.append(Piece(len(pieces) + 1, at, following[0], title))
    return pieces


def _silence_pieces(spec: JobSpec, info, track) -> list[Piece]:
    from .silence import DEFAULT_MIN_SILENCE, DEFAULT_THRESHOLD, find_silences

    threshold = spec.silence_threshold if spec.silence_threshold is not None else DEFAULT_THRESHOLD
    shortest = spec.silence_min if spec.silence_min is not None else DEFAULT_MIN_SILENCE
    spans, length = find_silences(info, track, threshold=threshold, min_silence=shortest)
    shift = track.offset if spec.keep_offset else 0.0
    if spec.trim_silence and not spec.split:
        return [_trimmed(spans, length, shift)]
    cuts = [shift + (s.start + s.end) / 2 for s in spans if s.start > 0.01 and s.end < length - 0.01]
    return _bounded(cuts, shift, shift + length, spec.piece_min or 0.0, spec.piece_max)


def _trimmed(spans, length: float, shift: float) -> Piece:
    start, end = 0.0, length
    if spans and spans[0].start <= 0.01:
        start = spans[0].end
    if spans and spans[-1].end >= length - 0.01 and spans[-1].start > start:
        end = spans[-1].start
    if end - start < MIN_PIECE:
        raise UsageError("the audio is silent from start to end: nothing is left after trimming the silence")
    return Piece(1, shift + start, shift + end)


def _bounded(cuts: list[float], begin: float, finish: float, shortest: float, longest: float | None) -> list[Piece]:
    """Pieces between the cuts, none shorter than ``shortest`` (merged into the next) and none
    longer than ``longest`` (cut evenly where no silence was long enough)."""
    edges = [begin]
    for cut in cuts:
        if cut - edges[-1] >= shortest:
            edges.append(cut)
    if len(edges) > 1 and finish - edges[-1] < shortest:
        edges.pop()  # a short last piece joins the one before
    edges.append(finish)
    pieces: list[Piece] = []
    for a, b in itertools.pairwise(edges):
        parts = max(1, -(-int((b - a) * 1000) // int(longest * 1000))) if longest else 1
        for k in range(parts):
            start = a + (b - a) * k / parts
            end = a + (b - a) * (k + 1) / parts
            pieces.append(Piece(len(pieces) + 1, start, None if end >= finish else end))
    return pieces


def _piece_output(spec: JobSpec, info, piece: Piece) -> str:
    """The output of one piece as a template the ordinary naming finishes ({stem}, {ext}, ...)."""
    default = CHAPTER_TEMPLATE if spec.split == "chapters" else PIECE_TEMPLATE
    target = spec.output
    if target and _PIECE_FIELD.search(target):
        template = target
    elif target and (target.endswith(("/", os.sep)) or Path(target).is_dir()):
        template = _escaped(target.rstrip("/" + os.sep)) + "/" + default
    elif target:
        path = Path(target)
        titled = " - {piece_title}" if spec.split == "chapters" else ""
        template = _escaped(str(path.with_name(path.stem))) + " - {piece:02d}" + titled + (path.suffix or ".{ext}")
    else:
        template = _escaped(str(Path(info.path).parent)) + "/" + default
    title = safe_field(piece.title, f"part {piece.number:02d}")
    return _PIECE_FIELD.sub(lambda m: _field(m, piece.number, title), template)


def _field(match: re.Match, number: int, title: str) -> str:
    if match.group(3):  # a title: braces in it must not read as template fields later
        return _escaped(title)
    return format(number, (match.group(2) or ":")[1:])


def _escaped(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def parse_split_at(value: str) -> tuple[tuple[float, str | None], ...]:
    """--split-at: "1:00,2:30" or a text file of "00:00 Intro" lines, as pasted from a video description."""
    from .timeparse import parse_time

    path = Path(value)
    if path.is_file():
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        points = []
        for line in lines:
            found = re.match(r"\s*(?:[-*•]\s*)?\(?(\d{1,2}(?::\d{1,2}){1,2}(?:\.\d+)?)\)?\s*[-–—:|]?\s*(.*)$", line)
            if found:
                points.append((parse_time(found.group(1)), found.group(2).strip() or None))
        if not points:
            raise UsageError(f"{value}: no \"00:00 Title\" lines found")
        return tuple(points)
    return tuple((parse_time(part.strip()), None) for part in value.split(",") if part.strip())
