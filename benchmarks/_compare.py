"""Shared by the benchmarks that compare labdeck with a baseline figure by figure: the
medians, their ratio, and a table of them."""

import statistics


def compare(values: dict[str, list[float]], subject: str, baseline: str) -> dict:
    """The figures of both sides, their medians and subject / baseline."""
    ours, theirs = statistics.median(values[subject]), statistics.median(values[baseline])
    return {
        **values,
        f"{subject}_median": ours,
        f"{baseline}_median": theirs,
        "ratio": ours / theirs,
    }


def print_comparison(
    scenarios: dict[str, dict], subject: str, baseline: str, digits: int = 2
) -> None:
    """One line per figure: the baseline's median, the subject's, and the ratio (s)."""
    header = f"{'figure (s)':14} {baseline:>12} {subject:>12} {'ratio':>7}"
    print(f"\n{header}\n{'-' * len(header)}")
    for name, s in scenarios.items():
        print(
            f"{name:14} {s[f'{baseline}_median']:12.{digits}f} "
            f"{s[f'{subject}_median']:12.{digits}f} {s['ratio']:7.2f}"
        )
    print()
