"""Colours every eye can tell apart (WCAG 2.1 SC 1.4.1 Use of Color, and issue 26).

The series colours (widgets.plots.PALETTE) are seen as a learner with deuteranopia or
protanopia sees them, simulated with colorspacious (Machado, Oliveira and Fernandes 2009,
severity 100: the dichromat's view), and every pair must stay at least MIN_DELTA_E apart in
CAM02-UCS, CIECAM02's uniform colour space, in which a distance of 1 is about one
just-noticeable difference between two large patches of colour.

Why MIN_DELTA_E = 10: series are told apart on thin lines, small markers and legend
swatches, where a difference must be several times larger than between large patches to be
seen at a glance; 10 leaves that margin. Okabe and Ito's palette, made for colour-blind
readers, keeps its closest pair at 14.0 (blue against reddish purple, with protanopia); the
plotly/D3 palette the app used before issue 26 has its green and red 5.2 apart with
deuteranopia, and its orange and green 1.6 apart with protanopia.

The sequential colour maps of the heatmaps must read in greyscale: their lightness (J' in
CAM02-UCS) runs one way from one end to the other, so a printout or a learner who sees no
hue still reads high and low."""
import itertools

import numpy as np
import pytest

colorspacious = pytest.importorskip("colorspacious", reason="pip install colorspacious (in the test extra)")

MIN_DELTA_E = 10.0
MIN_LIGHTNESS_SPAN = 40.0  # J' from one end of a colour map to the other (0 black, 100 white)
DICHROMACIES = ("deuteranomaly", "protanomaly")  # at severity 100: deuteranopia, protanopia
# the palette before issue 26 (plotly's default, D3's category10) and Okabe & Ito (2008):
# the bound must fail the first and pass the second
PLOTLY_D3 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]


def srgb1(colour):
    """A CSS colour, '#rrggbb', 'rgb(r, g, b)' or 'rgba(r, g, b, a)', as sRGB in 0-1."""
    colour = colour.strip()
    if colour.startswith("#") and len(colour) == 7:
        return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    if colour.startswith("rgb"):
        return np.array([float(c) for c in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3]]) / 255
    raise ValueError(f"colour must be '#rrggbb' or 'rgb(r, g, b)', got {colour!r}")


def as_seen_with(cvd_type, colour):
    """`colour` as a dichromat of `cvd_type` sees it, clipped to what a screen shows."""
    space = {"name": "sRGB1+CVD", "cvd_type": cvd_type, "severity": 100}
    return np.clip(colorspacious.cspace_convert(srgb1(colour), space, "sRGB1"), 0, 1)


def closest_pair(palette, cvd_type):
    """(CAM02-UCS distance, colour, colour) of the two colours of `palette` that `cvd_type` confuses most."""
    seen = {c: as_seen_with(cvd_type, c) for c in palette}
    return min((float(colorspacious.deltaE(seen[a], seen[b], input_space="sRGB1")), a, b)
               for a, b in itertools.combinations(palette, 2))


def test_srgb1_reads_css_colours_and_names_what_it_cannot():
    assert srgb1("#ff8000") == pytest.approx([1, 128 / 255, 0])
    assert srgb1("rgb(0, 51, 255)") == pytest.approx([0, 0.2, 1])
    with pytest.raises(ValueError, match="colour must be"):
        srgb1("viridis")


def test_the_bound_fails_the_old_palette_and_passes_okabe_ito():
    assert closest_pair(PLOTLY_D3, "deuteranomaly")[0] < MIN_DELTA_E  # its green and red
    for cvd_type in DICHROMACIES:
        assert closest_pair(OKABE_ITO, cvd_type)[0] >= MIN_DELTA_E


@pytest.mark.parametrize("cvd_type", DICHROMACIES)
def test_every_pair_of_series_colours_stays_apart_for_a_dichromat(cvd_type):
    from widgets.plots import PALETTE
    assert len(PALETTE) >= 6 and len(set(c.lower() for c in PALETTE)) == len(PALETTE)
    distance, a, b = closest_pair(PALETTE, cvd_type)
    assert distance >= MIN_DELTA_E, (f"with {cvd_type} (severity 100) {a} and {b} are {distance:.1f} apart in "
                                     f"CAM02-UCS, below {MIN_DELTA_E}")


def colour_maps():
    """{name: [(position, css colour), ...]} of the colour maps the heatmap figures draw."""
    from widgets import plots
    figures = {"dark knowledge": plots.dark_knowledge_heatmap(np.full((3, 3), 1 / 3), ["a", "b", "c"]),
               "digit image": plots.image(np.eye(4)),
               "relations": plots.relation_heatmaps({"teacher": np.eye(3), "student": np.eye(3)})}
    maps = {}
    for name, figure in figures.items():
        figure = getattr(figure, "figure", figure)  # a figure, or a view that holds one
        for i, trace in enumerate(figure.data):
            if getattr(trace, "colorscale", None):
                maps[f"{name}, trace {i}"] = [(float(p), c) for p, c in trace.colorscale]
    return maps


def lightness(colour):
    """J', the lightness in CAM02-UCS, 0 (black) to 100 (white)."""
    return float(colorspacious.cspace_convert(srgb1(colour), "sRGB1", "CAM02-UCS")[0])


def test_every_heatmap_colour_map_reads_in_greyscale():
    maps = colour_maps()
    assert len(maps) >= 4  # the dark-knowledge matrix, the digit, and two relation panels
    for name, stops in maps.items():
        levels = [lightness(c) for _, c in sorted(stops)]
        steps = np.diff(levels)
        assert (steps > 0).all() or (steps < 0).all(), f"{name}: lightness not monotonic {np.round(levels, 1)}"
        assert abs(levels[-1] - levels[0]) >= MIN_LIGHTNESS_SPAN, f"{name}: ends too close in lightness {levels}"
