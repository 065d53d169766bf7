"""The `make bench` harness (benchmarks/): its streaming output checks, its memory measurement,
its goal table and its case selection. The bench itself needs Debian's ffmpeg and cached
inputs; these tests need neither (they make their own media with PyAV)."""

from __future__ import annotations

import json
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from benchmarks import checks, goal_cases, goal_table, inputs, procs, report, run

RATE = 48000


def write_wav(path, samples: np.ndarray) -> None:
    """float (channels, n) in -1..1 to a 16-bit stereo WAV."""
    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=RATE, layout="stereo")
        data = np.round(np.clip(samples, -1, 1) * 32767).astype(np.int16)
        for start in range(0, data.shape[1], 4800):
            block = np.ascontiguousarray(data[:, start : start + 4800].T.reshape(1, -1))
            frame = av.AudioFrame.from_ndarray(block, format="s16", layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = RATE, start, Fraction(1, RATE)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def tone(seconds: float, freq: float = 440.0, delay: int = 0) -> np.ndarray:
    t = (np.arange(int(seconds * RATE)) - delay) / RATE
    one = 0.4 * np.sin(2 * np.pi * freq * t) + 0.2 * np.sin(2 * np.pi * 1370.0 * t)
    return np.stack([one, 0.8 * one])


@pytest.fixture()
def small_blocks(monkeypatch):
    monkeypatch.setattr(checks, "BLOCK", 1000)  # several blocks, and a short last one


def test_streaming_compare_finds_identical_pcm_across_blocks(tmp_path, small_blocks):
    write_wav(tmp_path / "a.wav", tone(1.0))
    write_wav(tmp_path / "b.wav", tone(1.0))
    result = checks.compare_streaming(tmp_path / "a.wav", tmp_path / "b.wav")
    assert result["identical"] and result["samples"] == RATE and result["length_difference"] == 0


def test_streaming_compare_reports_one_changed_sample_and_a_short_file(tmp_path, small_blocks):
    changed = tone(1.0)
    changed[1, 30_123] += 0.25
    write_wav(tmp_path / "a.wav", tone(1.0))
    write_wav(tmp_path / "changed.wav", changed)
    write_wav(tmp_path / "short.wav", tone(1.0)[:, :-777])
    diff = checks.compare_streaming(tmp_path / "changed.wav", tmp_path / "a.wav")
    assert not diff["identical"] and 8000 < diff["max_diff_lsb16"] < 8400 and diff["length_difference"] == 0
    short = checks.compare_streaming(tmp_path / "short.wav", tmp_path / "a.wav")
    assert short["length_difference"] == -777 and not short["identical"] and short["max_diff_lsb16"] == 0
    # The in-memory check the older cases use agrees with the streaming one.
    assert checks.compare_pcm(tmp_path / "short.wav", tmp_path / "a.wav")["length_difference"] == -777


def test_streaming_snr_finds_the_delay_and_measures_known_noise(tmp_path):
    rng = np.random.default_rng(1)
    clean, delayed = tone(6.0), tone(6.0, delay=250)
    noisy = delayed + 0.02 * rng.standard_normal(delayed.shape)
    write_wav(tmp_path / "src.wav", clean)
    write_wav(tmp_path / "delayed.wav", delayed)
    write_wav(tmp_path / "noisy.wav", noisy)
    exact = checks.snr_streaming(tmp_path / "src.wav", tmp_path / "delayed.wav", lag_at=1.0, window=1.0)
    assert exact["lag_samples"] == 250 and exact["snr_db"] > 80
    # Signal power of the mono mix over noise power of the averaged (independent) noise.
    mix = clean.mean(axis=0)
    expected = 10 * np.log10(np.mean(mix**2) / (0.02**2 / 2))
    measured = checks.snr_streaming(tmp_path / "src.wav", tmp_path / "noisy.wav", lag_at=1.0, window=1.0)
    assert measured["lag_samples"] == 250 and abs(measured["snr_db"] - expected) < 0.5
    assert measured["scored_seconds"] > 3.5


def test_streaming_snr_worst_window_shows_a_damaged_stretch(tmp_path):
    damaged = tone(6.0)
    damaged[:, 4 * RATE : 4 * RATE + 2400] = 0.0  # 50 ms of silence, as a bad seam would leave
    write_wav(tmp_path / "src.wav", tone(6.0))
    write_wav(tmp_path / "damaged.wav", damaged)
    result = checks.snr_streaming(tmp_path / "src.wav", tmp_path / "damaged.wav", lag_at=1.0, window=1.0)
    # 50 ms wrong in 4 s scored: the mean hides it at 19 dB, the worst 1-s window shows 13 dB.
    assert result["worst_window_snr_db"] < result["snr_db"] - 5 < 15


def test_count_samples_decodes_the_whole_track(tmp_path):
    write_wav(tmp_path / "a.wav", tone(1.5))
    assert checks.count_samples(tmp_path / "a.wav") == {"samples": 72000, "rate": RATE}


def test_tree_memory_counts_the_workers_a_command_forks():
    script = (
        "import os, time\n"
        "for _ in range(2):\n"
        "    if os.fork() == 0:\n"
        "        block = bytearray(40 * 1024 * 1024)\n"
        "        block[::4096] = b'x' * len(block[::4096])\n"
        "        time.sleep(1.0)\n"
        "        os._exit(0)\n"
        "os.wait(); os.wait()\n"
    )
    sample = procs.checked([sys.executable, "-c", script], tree=True)
    assert sample.tree_pss_mb is not None and sample.tree_rss_mb >= sample.tree_pss_mb
    # Each worker holds 40 MB of its own: the largest process sees one, the tree both.
    assert 40 <= sample.maxrss_mb < 70 and sample.tree_pss_mb >= 80
    assert procs.checked([sys.executable, "-c", "pass"]).tree_pss_mb is None


def test_vax_json_result_is_read_from_the_last_round():
    line = json.dumps({"notes": ["encoded in 2 segments on 2 cores"], "verification": {"samples": 96000}})
    samples = [procs.Sample(1, 1, 1, None, None, 0, "", stdout="not json\n" + line + "\n")]
    facts = goal_cases.vax_facts(samples)
    assert facts["notes"] == ["encoded in 2 segments on 2 cores"] and facts["samples"] == 96000
    assert goal_cases.vax_facts([procs.Sample(1, 1, 1, None, None, 0, "")])["notes"] is None


def _times(values):
    return {"median": float(np.median(values)), "min": min(values), "max": max(values), "n": len(values),
            "all": values}


def _case(ffmpeg, vax, floor, limit):
    return {
        "times": {"ffmpeg": _times(ffmpeg), "vax": _times(vax), "pyav_copy_loop": _times(floor)},
        "cpu_seconds": {"ffmpeg": _times([1.0]), "vax": _times([3.0])},
        "goals": [goal_cases.goal("a copy", f"<= {limit}x", "vax", "ffmpeg", limit,
                                  ["pyav_copy_loop", "vax_cpu_over_cores"])],
    }


def test_goal_rows_judge_the_ratio_of_the_same_rounds_and_show_the_bound():
    # Round by round 0.5x and 0.7x (median 0.6x), though the medians alone would give 0.62x.
    res = {"cases": {"a": _case([2.0, 1.0], [1.0, 0.7], [0.5, 0.5], 0.6),
                     "b": _case([1.0, 1.0], [2.0, 2.2], [0.8, 0.9], 1.5)}}
    res["cases"]["b"].update(read_bytes={"ffmpeg": 9e8, "vax": 1e8}, file_bytes=1e9)
    first, second = goal_table.rows(res)
    assert first["pass"] and abs(first["ratio"] - 0.6) < 1e-9 and "0.50-0.70" in first["measured"]
    assert not second["pass"] and "pyav_copy_loop 0.85 s = 0.85x" in second["bound"]
    assert "1.50 s" in second["bound"]  # vax's 3 CPU seconds over two cores
    assert "vax 100 MB of the file's 1000 MB" in second["bound"] and "read from" not in first["bound"]
    table = goal_table.markdown(res)
    assert table[0].startswith("| case | goal |") and "**pass**" in table[2] and "**miss**" in table[3]


def _long(maxrss, pss, seconds):
    return {
        "rss_limit_mb": 80,
        "linear_slack": 1.15,
        "by_hours": {
            str(h): {"seconds": s, "cpu_seconds": s, "seconds_per_input_hour": s / h, "maxrss_mb": m,
                     "tree_rss_mb": p + 20, "tree_pss_mb": p, "loadavg_before": [0.1, 0, 0],
                     "vax_result": {"notes": []}, "output_samples": 10, "source_samples": 10}
            for h, m, p, s in zip((1, 3, 10), maxrss, pss, seconds)
        },
    }


def test_long_flac_rows_judge_memory_on_the_whole_tree_and_time_per_hour():
    memory, linear = goal_table.long_rows(_long([60, 61, 62], [70, 72, 75], [20.0, 61.0, 210.0]))
    assert memory["pass"] and linear["pass"] and "1.05x" in linear["measured"]
    memory, linear = goal_table.long_rows(_long([60, 61, 62], [70, 72, 95], [20.0, 70.0, 300.0]))
    assert not memory["pass"] and not linear["pass"]


def test_case_groups_expand_in_order_and_unknown_names_stop_the_run():
    chosen = run._chosen(["goal_batch", "goals"])
    assert chosen[0] == "goal_batch" and chosen.count("goal_batch") == 1
    assert chosen[1:] == [n for n in run.GROUPS["goals"] if n != "goal_batch"]
    with pytest.raises(SystemExit):
        run._chosen(["no_such_case"])


def test_every_derived_input_comes_from_a_known_one():
    for part, count in inputs.JOINED.values():
        assert (part in inputs.SPECS or part in inputs.AUDIO_OF) and count > 1
    assert inputs.path_of("audio_10hour").suffix == ".m4a"
    assert inputs.path_of("joined_1hour_720p").suffix == ".mp4"
    assert set(goal_cases.CASES) == {n.removeprefix("goal_") for n in run.GROUPS["goals"]}


def test_readme_quotes_the_goals_of_the_committed_bench_run():
    """The README's headline figures are the last run's, as benchmarks/report.py wrote them."""
    root = Path(__file__).resolve().parent.parent
    results = json.loads((root / "benchmarks" / "results" / "results.json").read_text())
    readme = (root / "README.md").read_text()
    start, end = readme.index(goal_table.README_START), readme.index(goal_table.README_END)
    quoted = readme[start : end + len(goal_table.README_END)].splitlines()
    # After a change to benchmarks/goal_table.py, `python -m benchmarks.report` rewrites the block.
    assert quoted == goal_table.readme_lines(results), "README's headline block is not the last run's"
    assert len(quoted) > 8  # a run with the goal cases, not an empty table


def test_report_rewrites_only_the_readme_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{goal_table.README_START}\nold\n{goal_table.README_END}\nrest\n")
    assert report.update_readme(readme, [goal_table.README_START, "new", goal_table.README_END])
    assert readme.read_text() == f"intro\n{goal_table.README_START}\nnew\n{goal_table.README_END}\nrest\n"
    readme.write_text("no markers\n")
    assert not report.update_readme(readme, ["x"]) and readme.read_text() == "no markers\n"
