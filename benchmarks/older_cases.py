"""The cases of earlier rounds still worth their time (start-up floors, 3-minute transcodes
against ffmpeg, moviepy and pydub, other containers, bytes read, scaling to 30 minutes),
as methods of the runner's Bench (benchmarks/run.py)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess

from . import checks, procs
from .common import HERE, PY, ROOT, VAX, ffmpeg, interleave, ratio_rounds, summary, vax, walls


class OlderCases:
    def copy_whole_process(self):
        src = self.paths["mp4_3min"]
        res = interleave(
            {
                "ffmpeg": ffmpeg("-i", src, "-vn", "-c:a", "copy", self.out("ref.m4a")),
                "vax": vax(src, "-o", self.out("vax.m4a")),
            },
            self.rounds(7),
        )
        self.record(
            "copy_3min_mp4",
            res,
            "ffmpeg",
            check=checks.copy_checks(self.out("vax.m4a"), self.out("ref.m4a"), src),
        )

    def copy_in_process(self):
        """extract() with imports done vs ffmpeg's own `-benchmark` rtime (its processing, no start-up)."""
        src = self.paths["mp4_3min"]
        worker = subprocess.Popen(
            [PY, "-m", "benchmarks.worker"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        job = json.dumps({"input": str(src), "output": str(self.out("inproc.m4a"))}) + "\n"

        verify_share = []

        def in_process():
            worker.stdin.write(job)
            worker.stdin.flush()
            answer = json.loads(worker.stdout.readline())
            verify_share.append(answer["verify_seconds"] / answer["seconds"])
            return answer["seconds"]

        def ffmpeg_rtime():
            sample = procs.checked(
                [
                    "ffmpeg",
                    "-nostdin",
                    "-hide_banner",
                    "-v",
                    "info",
                    "-nostats",
                    "-benchmark",
                    "-y",
                    "-i",
                    str(src),
                    "-vn",
                    "-c:a",
                    "copy",
                    str(self.out("ref.m4a")),
                ]
            )
            line = [x for x in sample.stderr.splitlines() if "rtime=" in x][-1]
            return float(line.split("rtime=")[1].split()[0].rstrip("s"))

        in_process(), ffmpeg_rtime()
        a, b = [], []
        for r in range(self.rounds(9)):
            pair = (in_process, ffmpeg_rtime) if r % 2 == 0 else (ffmpeg_rtime, in_process)
            first, second = pair[0](), pair[1]()
            (a.append(first), b.append(second)) if r % 2 == 0 else (b.append(first), a.append(second))
        worker.stdin.close()
        worker.wait()
        self.cases["copy_3min_in_process"] = {
            "times": {"ffmpeg_rtime": summary(b), "vax_extract()": summary(a)},
            "reference": "ffmpeg_rtime",
            "ratios": {"vax_extract()": summary([x / y for x, y in zip(a, b)])},
            "verification_share": summary(verify_share),
            "check": checks.copy_checks(self.out("inproc.m4a"), self.out("ref.m4a"), src),
        }
        print(
            f"  copy_3min_in_process: extract() {statistics.median(a):.3f}s (verification "
            f"{statistics.median(verify_share):.0%}), ffmpeg rtime {statistics.median(b):.3f}s",
            flush=True,
        )

    def transcode(self, fmt: str, ff_args: list[str], vax_args: list[str], rounds: int):
        src = self.paths["mp4_3min"]
        res = interleave(
            {
                "ffmpeg": ffmpeg("-i", src, "-vn", *ff_args, self.out(f"ref.{fmt}")),
                "vax": vax(src, "-f", fmt, *vax_args, "-o", self.out(f"vax.{fmt}")),
            },
            rounds,
        )
        return self.record(f"{fmt}_3min_mp4", res, "ffmpeg")

    def pcm_cases(self):
        for fmt in ("wav", "flac"):
            entry = self.transcode(fmt, [], [], self.rounds(5))
            entry["check"] = checks.compare_pcm(self.out(f"vax.{fmt}"), self.out(f"ref.{fmt}"))

    def mp3_case(self):
        src = self.paths["mp4_3min"]
        res = interleave(
            {
                "ffmpeg": ffmpeg("-i", src, "-vn", "-b:a", "192k", self.out("ref.mp3")),
                "vax": vax(src, "-f", "mp3", "--bitrate", "192k", "-o", self.out("vax.mp3")),
                "moviepy": [PY, "-m", "benchmarks.peers", "moviepy", str(src), str(self.out("moviepy.mp3"))],
                "pydub": [PY, "-m", "benchmarks.peers", "pydub", str(src), str(self.out("pydub.mp3"))],
            },
            self.rounds(3),
            warmup=False,
        )
        entry = self.record("mp3_192k_3min_mp4", res, "ffmpeg")
        source = self.source()
        entry["quality_snr_db"] = {
            name: checks.snr_against(source, self.out(f"{name if name != 'ffmpeg' else 'ref'}.mp3"))
            for name in res
        }
        entry["ratios"]["vax_vs_moviepy"] = summary(ratio_rounds(res["vax"], res["moviepy"]))
        entry["ratios"]["vax_vs_pydub"] = summary(ratio_rounds(res["vax"], res["pydub"]))

    def mp3_two_halves(self):
        """The experiment of benchmarks/mp3_split.py: two LAME encoders on the two cores, joined."""
        done = subprocess.run(
            [PY, "-m", "benchmarks.mp3_split", str(self.paths["mp4_3min"]), str(self.out("split.mp3"))],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            result = json.loads(done.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            result = {"error": (done.stdout + done.stderr)[-2000:]}
        result["loadavg"] = os.getloadavg()
        self.cases["mp3_two_halves_experiment"] = result
        print(f"  mp3_two_halves_experiment: {json.dumps(result)[:400]}", flush=True)

    def source(self):
        if self.source_pcm is None:
            self.source_pcm, _ = checks.decode_pcm(self.paths["mp4_3min"])
        return self.source_pcm

    def bytes_read(self):
        src = self.paths["mp4_500mb"]
        res = interleave(
            {
                "ffmpeg": ffmpeg("-i", src, "-vn", "-c:a", "copy", self.out("big_ref.m4a")),
                "vax": vax(src, "-o", self.out("big_vax.m4a")),
            },
            self.rounds(3),
        )
        entry = self.record("copy_500mb_mp4", res, "ffmpeg")
        entry["file_bytes"] = src.stat().st_size
        entry["audio_track_bytes"] = checks.audio_track_bytes(src)
        entry["rchar"] = {k: statistics.median([s.rchar for s in v]) for k, v in res.items()}
        entry["check"] = checks.copy_checks(self.out("big_vax.m4a"), self.out("big_ref.m4a"), src)

    def cold_cache(self):
        """Evict the input's pages before each run and count what the process fetched from storage."""
        src = self.paths["mp4_500mb"]

        def cold(argv):
            def run():
                procs.evict(src)
                return procs.checked(argv)

            return run

        hinted = [PY, "-m", "benchmarks.hinted_copy", "--hint", str(src), str(self.out("hint.m4a"))]
        plain = [PY, "-m", "benchmarks.hinted_copy", str(src), str(self.out("plain.m4a"))]
        res = interleave(
            {
                "ffmpeg": cold(ffmpeg("-i", src, "-vn", "-c:a", "copy", self.out("cold_ref.m4a"))),
                "vax": cold(vax(src, "-o", self.out("cold_vax.m4a"))),
                "pyav_no_hint": cold(plain),
                "pyav_fadv_random": cold(hinted),
            },
            self.rounds(2),
            warmup=False,
        )
        entry = self.record("cold_cache_500mb_mp4", res, "ffmpeg")
        entry["read_bytes"] = {k: statistics.median([s.read_bytes or 0 for s in v]) for k, v in res.items()}
        entry["file_bytes"] = src.stat().st_size
        entry["check"] = checks.copy_checks(self.out("cold_vax.m4a"), self.out("cold_ref.m4a"), src)

    def scaling(self):
        rows = {}
        for name, minutes in (("mp4_1min", 1), ("mp4_3min", 3), ("mp4_10min", 10), ("mp4_30min", 30)):
            src = self.paths[name]
            copy = interleave(
                {
                    "ffmpeg": ffmpeg("-i", src, "-vn", "-c:a", "copy", self.out("s_ref.m4a")),
                    "vax": vax(src, "-o", self.out("s_vax.m4a")),
                },
                3 if minutes < 30 else 2,
            )
            mp3 = interleave(
                {
                    "ffmpeg": ffmpeg("-i", src, "-vn", "-b:a", "192k", self.out("s_ref.mp3")),
                    "vax": vax(src, "-f", "mp3", "--bitrate", "192k", "-o", self.out("s_vax.mp3")),
                },
                1,
                warmup=False,
            )
            rows[minutes] = {
                "copy": {k: statistics.median(walls(v)) for k, v in copy.items()},
                "copy_maxrss_mb": {k: max(s.maxrss_mb for s in v) for k, v in copy.items()},
                "mp3": {k: statistics.median(walls(v)) for k, v in mp3.items()},
                "mp3_maxrss_mb": {k: max(s.maxrss_mb for s in v) for k, v in mp3.items()},
            }
            print(f"  scaling {minutes} min: {rows[minutes]}", flush=True)
        self.cases["scaling"] = {"by_minutes": rows}

    def containers(self):
        for name, out, mapping in (("mkv_3min", "mka", "0:a:1"), ("webm_3min", "opus", "0:a:0")):
            src = self.paths[name]
            track = ["--track", "2"] if mapping == "0:a:1" else []
            res = interleave(
                {
                    "ffmpeg": ffmpeg("-i", src, "-map", mapping, "-c", "copy", self.out(f"{name}_ref.{out}")),
                    "vax": vax(src, *track, "-o", self.out(f"{name}_vax.{out}")),
                },
                self.rounds(3),
            )
            entry = self.record(f"copy_{name}", res, "ffmpeg")
            entry["check"] = checks.copy_checks(
                self.out(f"{name}_vax.{out}"), self.out(f"{name}_ref.{out}"), src, 2 if track else 1
            )

    def startup(self):
        res = interleave({"vax_help": [VAX, "--help"], "python_pass": [PY, "-c", "pass"]}, self.rounds(9))
        self.record("vax_help", res, "python_pass")
        self.floors()
        src = self.paths["mp4_3min"]
        res = interleave(
            {
                "ffprobe": ["ffprobe", "-v", "error", "-show_streams", str(src)],
                "vax_probe": [VAX, "probe", str(src)],
            },
            self.rounds(7),
        )
        self.record("probe_3min_mp4", res, "ffprobe")

    def floors(self):
        """What no Python tool goes below: start-up with the engine's imports; decoding the audio once."""
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
        engine = "import extractor.cli, extractor.api, backends.local, av, numpy"
        # What a stream copy loads: no numpy (its verification measures no peak).
        copy_engine = "import extractor.cli.app, extractor.cli.extract, extractor.api, backends.local, av"
        res = interleave(
            {
                "python_pass": lambda: procs.checked([PY, "-c", "pass"]),
                "import_av_numpy": lambda: procs.checked([PY, "-c", "import av, numpy"], env=env),
                "import_vax_engine": lambda: procs.checked([PY, "-c", engine], env=env, cwd=str(ROOT)),
                "import_vax_copy_engine": lambda: procs.checked([PY, "-c", copy_engine], env=env, cwd=str(ROOT)),
            },
            self.rounds(7),
        )
        entry = self.record("floor_startup_imports", res, "python_pass")
        decode = (
            "import av, sys, time\nc = av.open(sys.argv[1]); s = c.streams.audio[0]\n"
            "[setattr(o, 'discard', av.stream.Discard.all) for o in c.streams if o.index != s.index]\n"
            "t = time.perf_counter(); n = sum(f.samples for f in c.decode(s))\n"
            "print(time.perf_counter() - t)"
        )
        times = [
            float(
                subprocess.run(
                    [PY, "-c", decode, str(self.paths["mp4_3min"])],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            for _ in range(self.rounds(5))
        ]
        entry["aac_decode_3min_in_process"] = summary(times)
        print(f"  AAC decode of the 3-min track in-process: {statistics.median(times):.3f}s", flush=True)

    def remote(self):
        script = HERE / "remote_overhead.py"
        if not script.exists():
            return
        try:
            done = subprocess.run(
                [PY, "-m", "benchmarks.remote_overhead", "--json"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=180,
                check=False,
            )
        except subprocess.TimeoutExpired:
            self.cases["remote_overhead"] = {"error": "timed out after 180 s"}
            return
        parsed = None
        for line in reversed(done.stdout.strip().splitlines()):
            try:
                parsed = json.loads(line)
                break
            except ValueError:
                continue
        self.cases["remote_overhead"] = {
            "returncode": done.returncode,
            "result": parsed,
            "output": (done.stdout + done.stderr)[-3000:] if parsed is None else None,
        }
        print(
            f"  remote_overhead: {json.dumps(parsed)[:300] if parsed else 'failed, see raw JSON'}", flush=True
        )
