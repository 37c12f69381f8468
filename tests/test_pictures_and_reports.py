"""Sheets, report pages and output folders: what a person looks at, and a rerun that never mixes two runs."""

import json

import numpy as np

from neurofocus.atomic import OutputFolder
from neurofocus.viz.pictures import ACCENT_RGB, contact_sheet
from neurofocus.viz.report import markdown_tables_html, write_evfocus_report


def _count(sheet: np.ndarray, colour) -> int:
    return int(np.all(sheet == np.asarray(colour, np.uint8), axis=-1).sum())


def test_contact_sheet_labels_never_cover_an_image_and_the_highlight_is_framed():
    colours = [(10, 200, 30), (200, 20, 40), (30, 40, 220)]
    images = [np.full((30, 40, 3), c, np.uint8) for c in colours]
    sheet = contact_sheet(images, ["first\nPSNR 20.00 dB", "the input image", "third"], columns=2, title="title",
                          highlight=1)
    for c in colours:
        assert _count(sheet, c) == 30 * 40  # every pixel of every image shows, none under a label
    frame = 2 * (40 + 8) + 2 * 30 + 8 * 4  # the 4-px frame around the 40x30 image (outer ring area, lower bound)
    assert _count(sheet, ACCENT_RGB) >= frame
    rows = np.flatnonzero(np.all(sheet == np.asarray(colours[0], np.uint8), axis=-1).any(axis=1))
    assert rows.min() > 30  # the title and two label lines sit above the first image


def test_output_folder_removes_what_the_previous_run_wrote_and_keeps_other_files(tmp_path):
    first = OutputFolder(tmp_path, owned=("stack/slice_*.png",))
    for name in ("a.png", "stack/slice_000_t1us.png", "stack/slice_001_t2us.png"):
        first.path(name).parent.mkdir(parents=True, exist_ok=True)
        first.path(name).write_text(name)
    first.finish()
    (tmp_path / "mine.txt").write_text("keep")
    (tmp_path / "stack" / "slice_009_t9us.png").write_text("an older run's slice with no manifest entry")
    second = OutputFolder(tmp_path, owned=("stack/slice_*.png",))
    second.path("stack/slice_000_t5us.png").write_text("new")
    second.finish()
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        ".neurofocus-outputs.json", "mine.txt", "stack/slice_000_t5us.png"]
    assert json.loads((tmp_path / OutputFolder.MANIFEST).read_text())["files"] == ["stack/slice_000_t5us.png"]


def test_markdown_tables_become_html_tables():
    page = markdown_tables_html("## Title\n\n| method | A |\n|---|---:|\n| input | 1.00 dB |\n\ntext & more\n")
    assert page == ("<h2>Title</h2><table><tr><th>method</th><th>A</th></tr><tr><td>input</td><td>1.00 dB</td>"
                    "</tr></table><p>text &amp; more</p>")


def test_evfocus_report_inlines_every_frame(tmp_path):
    frames = [np.full((8, 8), v, np.float32) for v in (0.0, 0.5, 1.0)]
    write_evfocus_report(tmp_path / "r.html", title="t", summary="s", frames=frames, times_us=[0, 10, 20],
                         tables={"Settings": {"method": "integrate"}})
    page = (tmp_path / "r.html").read_text()
    assert page.count("data:image/png;base64,") == 3 and "<td>integrate</td>" in page


def test_colour_maps_follow_their_stops_and_grey_marks_missing_values():
    from neurofocus.viz.pictures import colourise

    values = np.array([[0.0, 0.5, 1.0, np.nan]])
    rgb = colourise(values, "viridis", 0.0, 1.0)
    assert rgb[0, 0].tolist() == [0x44, 0x01, 0x54] and rgb[0, 2].tolist() == [0xfd, 0xe7, 0x25]
    assert rgb[0, 1].tolist() == [0x21, 0x91, 0x8c]  # the middle stop
    assert rgb[0, 3].tolist() == [204, 204, 204]
    assert colourise(values, "gray_r", 0.0, 1.0)[0, 0].tolist() == [255, 255, 255]  # reversed
    assert colourise(np.array([[-5.0, 5.0]]), "gray", 0.0, 1.0)[0].tolist() == [[0, 0, 0], [255, 255, 255]]


def test_a_map_has_its_colour_bar_beside_it(tmp_path):
    from neurofocus.images import read_image
    from neurofocus.viz import save_map

    save_map(tmp_path / "m.png", np.linspace(0, 1, 40 * 30).reshape(30, 40), "depth (m)", "title")
    picture = np.round(read_image(tmp_path / "m.png") * 255).astype(int)
    zoom = 700 // 40
    assert picture.shape[1] > 40 * zoom + 40  # the map, then the bar and its labels
    bar = picture[:, 12 + 40 * zoom + 14 + 9]  # a column through the middle of the colour bar
    assert [0x44, 0x01, 0x54] in bar.tolist() and [0xfd, 0xe7, 0x25] in bar.tolist()
