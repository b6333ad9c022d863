"""The app is scriptable: endpoints by api_name through gradio_client, and plain errors for bad values."""

from __future__ import annotations

import pytest


def test_every_tab_has_named_endpoints(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    for endpoint in ("/analyse_image", "/two_peaks", "/exp_normalize", "/real_cases", "/batchnorm_steps",
                     "/norm_variants", "/dropout_steps", "/selu_field", "/selu_deep", "/blocks", "/separable",
                     "/zoo_latency", "/compression", "/deep_compression", "/inside_unet"):
        assert endpoint in names, endpoint


def test_two_peaks_endpoint(client):
    *_, table = client.predict(20.5, 32.5, 1.0, 2.5, 40.5, 32.5, 1.0, 2.5, 0.0, 10.0, 3, api_name="/two_peaks")
    # equal peaks: the integral lands at the midpoint x = 30.5 (pulled a few hundredths toward the map's centre)
    assert "equal" in table and "| integral (soft-argmax) | (30.5" in table


def test_bad_value_gives_a_plain_message(client):
    with pytest.raises(Exception, match=r"β: inverse temperature must be a number from 0.1 to 200; got 1e\+09\."):
        client.predict(20.5, 32.5, 1.0, 2.5, 40.5, 32.5, 1.0, 2.5, 0.0, 1e9, 3, api_name="/two_peaks")


def test_selu_field_endpoint(client):
    _fig, text, _cos = client.predict(0.0, 1.0, 0.5, 2.0, 12, 1.0, api_name="/selu_field")
    assert "0.7877" in text


def test_batchnorm_endpoint(client):
    _fig, text = client.predict("Gaussian", 8, 1, 1.0, 0.0, True, api_name="/batchnorm_steps")
    assert "max |difference|" in text


def test_dropout_endpoint(client):
    _a, _b, text = client.predict(0.3, 100, api_name="/dropout_steps")  # the seed is session state
    assert "equals" in text


def test_blocks_endpoint_snaps_the_cardinality_to_a_divisor(client):
    text, _plot, table, formulas, groups, g = client.predict(64, 8, 3, 2, api_name="/blocks")
    assert formulas.count("\n- **") == len(table["data"]) and "formula" not in table["headers"]
    assert groups == 2 and "Cardinality 3 does not divide the bottleneck width C/2 = 32" in text
    assert g == 2 and "Time:" in text  # not measured yet, or when and where it was (a cache on disk)


def test_deep_compression_endpoint(client):
    _plot, text, table = client.predict("heatmap-s4", 0.9, 3, api_name="/deep_compression")
    assert "× smaller" in text and "35×" in text and len(table["data"]) == 4
    with pytest.raises(Exception, match=r"bits per shared weight \(2\^b centroids\) must be .*1 to 8"):
        client.predict("heatmap-s4", 0.5, 12, api_name="/deep_compression")


def test_inside_the_unet_reads_the_sessions_image(app_url, tmp_path):
    import shutil

    from gradio_client import Client, handle_file

    from demos.keypoints import views as V

    c = Client(app_url, verbose=False)  # a session of its own: no image analysed yet
    with pytest.raises(Exception, match="No image yet"):
        c.predict("heatmap-s4", "l_wrist", api_name="/inside_unet")
    shutil.copy(V.EXAMPLES / V.DEFAULT_EXAMPLE, tmp_path / "fig.png")
    c.predict(handle_file(str(tmp_path / "fig.png")), "heatmap-s4", 20.0, ["argmax"], "l_wrist",
              api_name="/analyse_image")
    _u, _a, text = c.predict("heatmap-s4", "l_wrist", api_name="/inside_unet")  # the same session's image
    assert "| without either skip |" in text
