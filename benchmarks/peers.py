"""What a Python user reaches for: moviepy and pydub, one MP3 job each (run as a separate process).

python -m benchmarks.peers moviepy|pydub INPUT OUTPUT.mp3
"""

from __future__ import annotations

import sys


def moviepy_mp3(source: str, output: str) -> None:
    from moviepy import AudioFileClip

    clip = AudioFileClip(source)
    clip.write_audiofile(output, bitrate="192k", logger=None)
    clip.close()


def pydub_mp3(source: str, output: str) -> None:
    from pydub import AudioSegment

    AudioSegment.from_file(source).export(output, format="mp3", bitrate="192k")


if __name__ == "__main__":
    tool, source, output = sys.argv[1:4]
    {"moviepy": moviepy_mp3, "pydub": pydub_mp3}[tool](source, output)
