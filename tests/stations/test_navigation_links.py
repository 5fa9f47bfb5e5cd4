"""The nearby search's navigation links: ``core.geo.navigation_links`` builds, faster, exactly
the links of ``amap_link``, ``baidu_link`` and ``tencent_link`` — and those equal the links
written with ``urllib.parse.quote`` and one conversion per app, as they were first built."""

from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yizhan.core import geo


def reference(lat: float, lng: float, name: str, address: str) -> dict[str, str]:
    """The links as first written: each app converts and encodes on its own."""

    def q(text: str) -> str:
        return quote(text, safe="")

    def tencent_text(text: str) -> str:
        return q(text.replace(";", "；").replace("|", "｜"))

    f = geo._fmt
    g_lat, g_lng = geo.wgs84_to_gcj02(lat, lng)
    b_lat, b_lng = geo.wgs84_to_bd09(lat, lng)
    return {
        "amap": f"https://uri.amap.com/marker?position={f(g_lng)},{f(g_lat)}&name={q(name)}"
        "&src=yizhan&coordinate=gaode&callnative=1",
        "baidu": f"https://api.map.baidu.com/marker?location={f(b_lat)},{f(b_lng)}"
        f"&title={q(name)}&content={q(address)}&output=html&coord_type=bd09ll"
        "&src=webapp.yizhan.yizhan",
        "tencent": f"https://apis.map.qq.com/uri/v1/marker?marker=coord:{f(g_lat)},{f(g_lng)}"
        f";title:{tencent_text(name)};addr:{tencent_text(address)}&referer=yizhan",
    }


texts = st.one_of(
    st.text(max_size=30),
    st.text(alphabet="清远西街小哥驿站爱心角 ;|&#%+/?=·，。abcXYZ019-._~", max_size=30),
)


@settings(max_examples=300, deadline=None)
@given(lat=st.floats(-89.9, 89.9), lng=st.floats(-179.9, 179.9), name=texts, address=texts)
def test_the_links_are_those_first_written(lat, lng, name, address):
    try:
        expected = reference(lat, lng, name, address)
    except UnicodeEncodeError:  # a lone surrogate: neither can encode it
        with pytest.raises(UnicodeEncodeError):
            geo.navigation_links(lat, lng, name, address)
        return
    links = geo.navigation_links(lat, lng, name, address)
    assert links == expected
    assert links["amap"] == geo.amap_link(lat, lng, name)
    assert links["baidu"] == geo.baidu_link(lat, lng, name, address)
    assert links["tencent"] == geo.tencent_link(lat, lng, name, address)


def test_known_links_in_datong():
    links = geo.navigation_links(40.0952, 113.2826, "清远西街小哥驿站;1|2", "人民路 1号&#")
    assert links["amap"].startswith("https://uri.amap.com/marker?position=113.28")
    assert (
        "&name=%E6%B8%85%E8%BF%9C%E8%A5%BF%E8%A1%97%E5%B0%8F%E5%93%A5%E9%A9%BF%E7%AB%99%3B1%7C2&"
        in links["amap"]
    )
    assert (
        "title:%E6%B8%85%E8%BF%9C%E8%A5%BF%E8%A1%97%E5%B0%8F%E5%93%A5%E9%A9%BF%E7%AB%99%EF%BC%9B1%EF%BD%9C2;"
        in links["tencent"]
    )
    assert "&content=%E4%BA%BA%E6%B0%91%E8%B7%AF%201%E5%8F%B7%26%23&" in links["baidu"]
