"""What objects become as text: bounded, deterministic summaries of frames, arrays and reprs."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from claude_magic.summaries import Limits, describe


def frame(rows: int, columns: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    data = {f"col{i}": rng.standard_normal(rows) for i in range(columns - 2)}
    data["count"] = rng.integers(0, 1000, rows)
    data["label"] = np.where(rng.random(rows) > 0.5, "left", "right")
    return pd.DataFrame(data)


def test_dataframe_summary_has_shape_dtypes_nulls_rows_and_statistics():
    df = pd.DataFrame({"a": [1.0, None, 3.0, 4.0], "b": ["x", "y", None, "z"], "n": [1, 2, 3, 4]})
    text = describe(df)
    assert text.startswith("pandas.DataFrame: 4 rows × 3 columns\n")
    assert "  a: float64, nulls 1, unique 3\n" in text
    assert "  b: " in text and ", nulls 1, unique 3\n" in text.split("  b: ")[1]
    assert "  n: int64, nulls 0, unique 4\n" in text
    assert "rows (all 4):" in text
    stats = text.split("numeric columns (mean, std, min, quartiles, max):\n")[1]
    expected = df.describe()
    for name in ("mean", "std", "min", "25%", "50%", "75%", "max"):
        line = next(line for line in stats.splitlines() if line.startswith(name + " "))
        assert [float(v) for v in line.split()[1:]] == pytest.approx(list(expected.loc[name]), abs=5e-4)


def test_statistics_show_digits_by_scale_not_by_row_count():
    df = pd.DataFrame({"small": [0.000123, 0.000456, 0.000789], "big": [1_000_000.0, 1_000_000.5, 1_000_001.0]})
    stats = describe(df).split("max):\n")[1].splitlines()
    assert stats[1].split() == ["mean", "0.0004560", "1000000.50"]


def test_dataframe_rows_are_head_and_tail_with_an_ellipsis_row():
    df = frame(1000)
    text = describe(df, Limits(max_rows=6))
    rows = text.split("rows (first 3 and last 3 of 1,000):\n")[1].split("numeric columns")[0].splitlines()
    labels = [line.split()[0] for line in rows[1:]]
    assert labels[:3] + labels[4:] == ["0", "1", "2", "997", "998", "999"]
    assert set(labels[3]) == {"."}


def test_dataframe_summary_size_does_not_grow_with_rows():
    small, large = len(describe(frame(1_000))), len(describe(frame(1_000_000)))
    assert abs(large - small) <= 0.1 * small


def test_dataframe_summary_is_deterministic():
    df = frame(5_000)
    assert describe(df) == describe(df)


def test_large_frame_says_quartiles_are_estimated():
    # How fast: benchmarks/bench.py, figure 5; tests assert behaviour, not time.
    df = frame(3_000_000)
    text = describe(df)
    assert text.endswith("\n(quartiles from at most 1,000,000 evenly spaced values)")
    # Exact extremes even so.
    assert re.search(rf"\nmax +{df['col0'].max():.3f} +{df['col1'].max():.3f} ", text)


def test_wide_frame_shows_first_and_last_columns_and_says_how_many_are_left_out():
    wide = pd.DataFrame(np.arange(3 * 1000).reshape(3, 1000), columns=[f"c{i}" for i in range(1000)])
    text = describe(wide)
    assert len(text) < 5_000
    assert "  ... 980 columns not shown ...\n" in text
    assert "  c9: int64" in text and "  c990: int64" in text and "  c10: " not in text
    assert "c999" in text.split("numeric columns")[1] and "c500" not in text


def test_series_summary():
    series = pd.Series([1.0, 2.0, None, 4.0] * 100, name="price")
    text = describe(series)
    assert text.startswith("pandas.Series 'price': 400 values, dtype float64\n")
    assert "  price: float64, nulls 100, unique 3\n" in text
    assert "rows (first 5 and last 5 of 400):" in text
    assert re.search(r"\nmean +2\.333\n", text)


def test_numpy_array_summary_has_statistics_nan_count_and_few_values():
    array = np.arange(100_000, dtype=float)
    array[::1000] = np.nan
    text = describe(array)
    assert text.startswith("numpy.ndarray: shape (100000,), dtype float64\n")
    assert "min 1, " in text and "max 99999" in text and "NaN 100" in text
    assert "..." in text and len(text) < 500


def test_high_dimensional_array_is_bounded():
    text = describe(np.zeros((4,) * 12, dtype=np.int8))
    assert "values of array[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, :, :]:" in text
    assert len(text) < 1_000


def test_repr_of_other_objects_is_truncated_and_says_so():
    class Long:
        def __repr__(self):
            return "x" * 500

    text = describe(Long(), Limits(max_chars=100))
    assert text == "x" * 100 + "\n[repr truncated: 100 of 500 characters shown]"


def test_huge_containers_are_bounded_and_say_what_was_left_out():
    texts = [describe(list(range(10**7))), describe(set(range(10**6))), describe({i: i for i in range(10**6)})]
    for text in texts:
        assert len(text) <= Limits().max_chars
        assert " more>" in text
    assert texts[0].startswith("[0, 1, 2, ")


def test_bounded_repr_matches_repr_for_small_containers():
    values = [(1,), (), frozenset({2}), {"a": [1, {2: "b"}]}, set(), [b"x", None]]
    assert describe(values) == repr(values)


def test_self_containing_list_ends():
    loop: list = [1]
    loop.append(loop)
    assert describe(loop).startswith("[1, [1, [1, ")


def test_container_subclasses_get_the_bounded_repr_too():
    import collections

    from claude_magic.summaries import Limits, describe

    big = collections.defaultdict(int, {i: i for i in range(1_000_000)})
    text = describe(big, Limits(max_chars=2_000))
    # Cut as it is written (a full repr would end "999999: 999999})"), not repr'd whole first.
    assert text.startswith("defaultdict({0: 0, 1: 1") and "more>" in text and "999999" not in text
    assert describe(collections.deque([1, 2, 3])).startswith("deque([1, 2, 3])")


def test_columns_say_what_their_dtype_says_most_about():
    df = pd.DataFrame({
        "level": pd.Categorical(["lo", "hi", "mid", "lo"] * 5, categories=[f"c{i}" for i in range(12)] + ["lo", "mid", "hi"]),
        "flag": [True, False, True, True] * 5,
        "maybe": pd.array([True, None, False, True] * 5, dtype="boolean"),
        "when": pd.date_range("2024-01-01", periods=20, freq="D"),
    })
    text = describe(df)
    assert "  level: category, nulls 0, 15 levels: c0, c1, c2, c3, c4, c5, c6, c7, … 7 more\n" in text
    assert "  flag: bool, nulls 0, true 75.0%\n" in text
    assert "  maybe: boolean, nulls 5, true 66.7%\n" in text
    assert "  when: datetime64[us], nulls 0, from 2024-01-01 00:00:00 to 2024-01-20 00:00:00\n" in text


def test_unique_counts_of_a_large_frame_come_from_a_sample_and_say_so():
    from claude_magic.summaries import UNIQUE_SAMPLE

    df = pd.DataFrame({"id": np.arange(UNIQUE_SAMPLE * 3), "group": np.arange(UNIQUE_SAMPLE * 3) % 7})
    text = describe(df)
    assert f"  id: int64, nulls 0, unique ≥{UNIQUE_SAMPLE:,}\n" in text and "  group: int64, nulls 0, unique ≥7\n" in text
    assert f"  (≥: counted in at most {UNIQUE_SAMPLE:,} evenly spaced rows)\n" in text
