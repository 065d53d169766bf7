"""Tables printed by more than one command."""

from __future__ import annotations


def format_levels(tracks) -> str:
    def num(value, unit):
        return f"{value:7.1f} {unit}" if value is not None else f"{'-':>7} {unit}"

    rows = ["  track  codec   integrated     range   true peak         RMS        peak"]
    for t in tracks:
        if t.note:
            rows.append(f"  {t.track:>5}  {t.codec:<6}  {t.note}")
            continue
        rows.append(f"  {t.track:>5}  {t.codec:<6}  {num(t.integrated_lufs, 'LUFS')} {num(t.loudness_range_lu, 'LU')}"
                    f" {num(t.true_peak_dbtp, 'dBTP')} {num(t.rms_dbfs, 'dBFS')} {num(t.peak_dbfs, 'dBFS')}"
                    + ("  silent" if t.silent else ""))
    return "\n".join(rows)
