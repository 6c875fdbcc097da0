"""Builds the demo city file `data/demo_city.yaml`.

    python -m services.registry.demo_city_build > services/registry/data/demo_city.yaml

The demo city is a small slice of Beijing: two districts (东城区, 西城区), eight streets near their
real locations, each with its "six offices, one team, three centres" (六室一队三中心) units and a
grid of community polygons; the district-level departments and city-wide utilities with one agency
per district; the hotline categories, the street duty list (街道职责清单), the routing rules, the SLA
and scoring policies and one demo client per role. The output is deterministic.

The category table, duty list, rules and department table defined here are also what
`city_generator` reuses (through the YAML file) for the full-size synthetic city.
"""

from __future__ import annotations

import math
import random
import sys
from typing import Any

import yaml

from shared.city import Point

Box = tuple[float, float, float, float]
"""(lon_min, lat_min, lon_max, lat_max)."""

COORD_DIGITS = 6


def grid_rings(
    box: Box, count: int, rng: random.Random, *, jitter: float = 0.15, digits: int = COORD_DIGITS
) -> list[list[Point]]:
    """`count` non-overlapping quadrilaterals tiling (part of) `box`, row by row from the south-west.

    The box is cut into a grid of about square shape; the grid's inner vertices are moved by up to
    `jitter` of a cell's width/height (keep it below 0.25 so every cell stays convex). Neighbouring
    cells share their vertices exactly, so they touch along edges and never overlap; the box's outline
    stays straight, so rings in different boxes do not overlap either. Rings are closed and
    counter-clockwise.
    """
    if count <= 0:
        return []
    lon0, lat0, lon1, lat1 = box
    width, height = lon1 - lon0, lat1 - lat0
    # Roughly square cells: cols / rows ≈ width / height (in degrees, good enough near Beijing).
    cols = max(1, round(math.sqrt(count * width / height)))
    rows = math.ceil(count / cols)
    dx, dy = width / cols, height / rows
    vertices: list[list[Point]] = []
    for r in range(rows + 1):
        row: list[Point] = []
        for c in range(cols + 1):
            lon, lat = lon0 + c * dx, lat0 + r * dy
            if 0 < r < rows and 0 < c < cols:
                lon += rng.uniform(-jitter, jitter) * dx
                lat += rng.uniform(-jitter, jitter) * dy
            row.append((round(lon, digits), round(lat, digits)))
        vertices.append(row)
    rings: list[list[Point]] = []
    for i in range(count):
        r, c = divmod(i, cols)
        sw, se, ne, nw = vertices[r][c], vertices[r][c + 1], vertices[r + 1][c + 1], vertices[r + 1][c]
        rings.append([sw, se, ne, nw, sw])
    return rings


CITY = {"code": "beijing", "name": "北京市"}

# (district code, agency prefix, name, backstop name)
DISTRICTS: list[tuple[str, str, str, str]] = [
    ("dongcheng", "dc", "东城区", "东城区接诉即办兜底专班"),
    ("xicheng", "xc", "西城区", "西城区接诉即办兜底专班"),
]

# street code -> (district code, name, bounding box (lon_min, lat_min, lon_max, lat_max), community names)
# The boxes sit roughly where the streets are and only touch each other along their edges.
STREETS: dict[str, tuple[str, str, Box, list[str]]] = {
    "dc-donghuamen": (
        "dongcheng",
        "东华门街道",
        (116.400, 39.900, 116.420, 39.920),
        ["多福巷社区", "韶九社区", "正义路社区", "台基厂社区", "南池子社区", "北池子社区", "智德社区"],
    ),
    "dc-jingshan": (
        "dongcheng",
        "景山街道",
        (116.390, 39.920, 116.410, 39.935),
        ["景山东街社区", "吉祥社区", "黄化门社区", "钟鼓社区", "三眼井社区", "汪芝麻社区"],
    ),
    "dc-jiaodaokou": (
        "dongcheng",
        "交道口街道",
        (116.400, 39.935, 116.420, 39.945),
        ["菊儿社区", "福祥社区", "南锣鼓巷社区", "府学社区", "鼓楼苑社区", "交东社区"],
    ),
    "dc-andingmen": (
        "dongcheng",
        "安定门街道",
        (116.400, 39.945, 116.420, 39.953),
        ["国子监社区", "五道营社区", "分司厅社区", "钟楼湾社区", "华丰社区", "北锣鼓巷社区"],
    ),
    "xc-xichanganjie": (
        "xicheng",
        "西长安街街道",
        (116.370, 39.895, 116.400, 39.910),
        ["府右街社区", "六部口社区", "西交民巷社区", "北新华街社区", "和平门社区", "钱串社区", "东椅子社区"],
    ),
    "xc-jinrongjie": (
        "xicheng",
        "金融街街道",
        (116.355, 39.910, 116.375, 39.930),
        ["丰盛社区", "太平桥社区", "宏庙社区", "二龙路社区", "大院社区", "砖塔社区"],
    ),
    "xc-xinjiekou": (
        "xicheng",
        "新街口街道",
        (116.360, 39.930, 116.380, 39.948),
        ["前公用社区", "西四北头条社区", "赵登禹路社区", "玉桃园社区", "新明社区", "冠英园社区"],
    ),
    "xc-shichahai": (
        "xicheng",
        "什刹海街道",
        (116.380, 39.935, 116.400, 39.948),
        ["西海社区", "柳荫街社区", "前海北沿社区", "白米社区", "松树街社区", "护国寺社区", "米粮库社区"],
    ),
}

# 六室一队三中心: (slug, name, kind)
STREET_UNITS: list[tuple[str, str, str]] = [
    ("party", "党群工作办公室", "office"),
    ("safety", "平安建设办公室", "office"),
    ("city-management", "城市管理办公室", "office"),
    ("community", "社区建设办公室", "office"),
    ("livelihood", "民生保障办公室", "office"),
    ("support", "综合保障办公室", "office"),
    ("enforcement", "综合行政执法队", "enforcement_team"),
    ("party-centre", "党群服务中心", "centre"),
    ("citizen-centre", "市民服务中心", "centre"),
    ("grid-centre", "网格化服务管理中心", "centre"),
]

# (code, name, kind, level, parent, agency name template); `{d}` is the district name (东城区),
# `{s}` its short form (东城).
DEPARTMENTS: list[tuple[str, str, str, str, str | None, str]] = [
    ("cgw", "城市管理委员会", "city_management", "district", None, "{d}城市管理委员会"),
    ("cgzf", "城市管理综合行政执法局", "enforcement", "district", "cgw", "{d}城市管理综合行政执法局"),
    ("zjw", "住房和城乡建设委员会", "housing", "district", None, "{d}住房和城乡建设委员会"),
    ("swj", "水务局", "water", "district", None, "{d}水务局"),
    ("sthj", "生态环境局", "environment", "district", None, "北京市{d}生态环境局"),
    ("scjg", "市场监督管理局", "market_regulation", "district", None, "{d}市场监督管理局"),
    ("jtw", "交通委员会", "transport", "district", None, "北京市交通委员会{s}管理处"),
    ("gaj", "公安分局", "public_security", "district", None, "北京市公安局{d}分局"),
    ("ylj", "园林绿化局", "landscaping", "district", None, "{d}园林绿化局"),
    ("wjw", "卫生健康委员会", "health", "district", None, "{d}卫生健康委员会"),
    ("mzj", "民政局", "civil_affairs", "district", None, "{d}民政局"),
    ("rl", "北京市热力集团", "heating", "city", None, "北京市热力集团{s}供热分公司"),
    ("zls", "北京市自来水集团", "water_supply", "city", None, "北京市自来水集团{s}营业所"),
    ("dl", "国网北京市电力公司", "power", "city", None, "国网北京{s}供电公司"),
    ("rq", "北京市燃气集团", "gas", "city", None, "北京市燃气集团{s}分公司"),
]


def _values(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "name": name} for key, name in pairs]


def _attr(
    code: str,
    datatype: str,
    description: str,
    *,
    required: bool = False,
    values: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": code,
        "datatype": datatype,
        "required": required,
        "description": description,
    }
    if values:
        out["values"] = values
    return out


LOCATION = _attr("location_detail", "string", "详细位置（门牌号、楼号、路口）", required=True)
OCCURRED_AT = _attr("occurred_at", "datetime", "发现或发生时间")
DETAIL = _attr("detail", "text", "补充说明")
YES_NO = _values(("yes", "是"), ("no", "否"))
SCOPE = _values(("household", "单户"), ("building", "整栋楼"), ("estate", "整个小区"), ("area", "片区"))

# (code, name, name_en, group, urgency, keywords, attributes)
CATEGORIES: list[tuple[str, str, str, str, str, list[str], list[dict[str, Any]]]] = [
    (
        "garbage_piling",
        "垃圾堆放",
        "Garbage piling",
        "市容环境",
        "normal",
        ["垃圾", "堆放", "清运", "渣土"],
        [
            LOCATION,
            _attr(
                "volume",
                "singlevaluelist",
                "垃圾体量",
                values=_values(("small", "少量"), ("medium", "一车以内"), ("large", "大量")),
            ),
        ],
    ),
    (
        "back_alley",
        "背街小巷环境",
        "Back-alley environment",
        "市容环境",
        "normal",
        ["背街小巷", "胡同", "脏乱", "私搭乱建杂物"],
        [
            LOCATION,
            _attr(
                "issue",
                "multivaluelist",
                "问题类型",
                values=_values(("dirty", "卫生脏乱"), ("clutter", "杂物堆放"), ("wall", "墙面破损")),
            ),
        ],
    ),
    (
        "street_vendor",
        "占道经营",
        "Street vending",
        "市容环境",
        "normal",
        ["占道", "摆摊", "游商", "出店经营"],
        [
            LOCATION,
            _attr(
                "goods",
                "multivaluelist",
                "经营品类",
                values=_values(("food", "餐饮"), ("produce", "果蔬"), ("sundries", "日杂")),
            ),
        ],
    ),
    (
        "illegal_advertising",
        "非法小广告",
        "Illegal advertising",
        "市容环境",
        "normal",
        ["小广告", "张贴", "喷涂"],
        [
            LOCATION,
            _attr(
                "form",
                "singlevaluelist",
                "形式",
                values=_values(("posted", "张贴"), ("sprayed", "喷涂"), ("handout", "散发")),
            ),
        ],
    ),
    (
        "shared_bike",
        "共享单车乱停",
        "Shared-bike parking",
        "市容环境",
        "normal",
        ["共享单车", "乱停", "堆积"],
        [
            LOCATION,
            _attr(
                "brand",
                "multivaluelist",
                "品牌",
                values=_values(("meituan", "美团"), ("hellobike", "哈啰"), ("didi", "青桔")),
            ),
            _attr("count", "number", "大致数量"),
        ],
    ),
    (
        "public_toilet",
        "公厕",
        "Public toilets",
        "市容环境",
        "normal",
        ["公厕", "厕所", "异味"],
        [
            LOCATION,
            _attr(
                "issue",
                "singlevaluelist",
                "问题",
                values=_values(("dirty", "卫生差"), ("closed", "未开放"), ("broken", "设施损坏")),
            ),
        ],
    ),
    (
        "illegal_construction",
        "违法建设",
        "Illegal construction",
        "城乡建设",
        "complex",
        ["违建", "私搭乱建", "加层", "圈占"],
        [
            LOCATION,
            _attr(
                "stage",
                "singlevaluelist",
                "建设状态",
                values=_values(("building", "在建"), ("built", "已建成")),
            ),
            DETAIL,
        ],
    ),
    (
        "construction_dust",
        "施工扬尘",
        "Construction dust",
        "生态环境",
        "normal",
        ["扬尘", "工地", "未苫盖"],
        [LOCATION, _attr("site_name", "string", "工地名称"), OCCURRED_AT],
    ),
    (
        "air_pollution",
        "大气污染",
        "Air pollution",
        "生态环境",
        "normal",
        ["油烟", "废气", "焚烧", "异味"],
        [
            LOCATION,
            _attr(
                "source",
                "singlevaluelist",
                "污染源",
                values=_values(("cooking", "餐饮油烟"), ("burning", "露天焚烧"), ("factory", "企业排放")),
            ),
        ],
    ),
    (
        "noise",
        "噪音扰民",
        "Noise nuisance",
        "生态环境",
        "normal",
        ["噪音", "扰民", "施工噪声", "广场舞"],
        [
            LOCATION,
            _attr(
                "source",
                "multivaluelist",
                "噪声来源",
                values=_values(
                    ("construction", "施工"),
                    ("shop", "商铺"),
                    ("entertainment", "娱乐场所"),
                    ("traffic", "车辆"),
                    ("dance", "广场舞"),
                ),
            ),
            _attr(
                "period",
                "singlevaluelist",
                "时段",
                values=_values(("day", "白天"), ("night", "夜间（22时至次日6时）")),
            ),
        ],
    ),
    (
        "heating",
        "供暖",
        "Heating",
        "公共服务",
        "urgent",
        ["暖气", "不热", "供暖", "温度低"],
        [
            LOCATION,
            _attr("indoor_temperature", "number", "室内温度（℃）", required=True),
            _attr("scope", "singlevaluelist", "影响范围", values=SCOPE),
        ],
    ),
    (
        "water_supply",
        "供水",
        "Water supply",
        "公共服务",
        "emergency",
        ["停水", "水压低", "水质", "自来水"],
        [
            LOCATION,
            _attr("scope", "singlevaluelist", "影响范围", required=True, values=SCOPE),
            _attr("outage_start", "datetime", "停水开始时间"),
        ],
    ),
    (
        "power_outage",
        "停电",
        "Power outage",
        "公共服务",
        "emergency",
        ["停电", "断电", "跳闸", "电压"],
        [
            LOCATION,
            _attr("scope", "singlevaluelist", "影响范围", required=True, values=SCOPE),
            _attr("outage_start", "datetime", "停电开始时间"),
        ],
    ),
    (
        "gas",
        "燃气",
        "Gas",
        "公共服务",
        "emergency",
        ["燃气", "煤气", "漏气", "天然气"],
        [
            LOCATION,
            _attr(
                "smell",
                "singlevaluelist",
                "气味程度",
                required=True,
                values=_values(("slight", "轻微"), ("clear", "明显"), ("strong", "强烈")),
            ),
            _attr("evacuated", "singlevaluelist", "是否已撤离", values=YES_NO),
        ],
    ),
    (
        "sewage_overflow",
        "污水外溢",
        "Sewage overflow",
        "公共服务",
        "urgent",
        ["污水", "冒水", "下水道", "堵塞"],
        [LOCATION, OCCURRED_AT],
    ),
    (
        "manhole_cover",
        "井盖",
        "Manhole covers",
        "市政设施",
        "urgent",
        ["井盖", "缺失", "破损", "塌陷"],
        [
            LOCATION,
            _attr(
                "status",
                "singlevaluelist",
                "井盖状态",
                required=True,
                values=_values(("missing", "缺失"), ("broken", "破损"), ("shifted", "移位")),
            ),
        ],
    ),
    (
        "road_damage",
        "道路破损",
        "Road damage",
        "市政设施",
        "normal",
        ["坑洼", "路面", "破损", "塌陷"],
        [
            LOCATION,
            _attr(
                "damage",
                "singlevaluelist",
                "破损类型",
                values=_values(("pothole", "坑洼"), ("crack", "裂缝"), ("sinkhole", "塌陷")),
            ),
            _attr("area_m2", "number", "面积（平方米）"),
        ],
    ),
    (
        "street_light",
        "路灯",
        "Street lights",
        "市政设施",
        "normal",
        ["路灯", "不亮", "照明"],
        [
            LOCATION,
            _attr("pole_number", "string", "灯杆编号"),
            _attr(
                "fault",
                "singlevaluelist",
                "故障",
                values=_values(("off", "不亮"), ("on", "白天常亮"), ("flicker", "闪烁"), ("fallen", "倾倒")),
            ),
        ],
    ),
    (
        "traffic_signal",
        "交通信号",
        "Traffic signals",
        "交通出行",
        "urgent",
        ["红绿灯", "信号灯", "故障"],
        [
            _attr("intersection", "string", "路口名称", required=True),
            _attr(
                "fault",
                "singlevaluelist",
                "故障",
                values=_values(("dark", "不亮"), ("stuck", "不变灯"), ("timing", "配时不合理")),
            ),
        ],
    ),
    (
        "residential_parking",
        "小区停车",
        "Residential parking",
        "交通出行",
        "normal",
        ["停车", "车位", "停车难", "僵尸车"],
        [
            LOCATION,
            _attr(
                "issue",
                "singlevaluelist",
                "问题",
                values=_values(("shortage", "车位不足"), ("abandoned", "僵尸车"), ("fee", "收费")),
            ),
        ],
    ),
    (
        "greening",
        "园林绿化",
        "Trees and greening",
        "园林绿化",
        "normal",
        ["树木", "绿地", "修剪", "倒伏"],
        [
            LOCATION,
            _attr(
                "issue",
                "singlevaluelist",
                "问题",
                values=_values(
                    ("pruning", "需修剪"), ("fallen", "倒伏"), ("pests", "病虫害"), ("damage", "毁绿")
                ),
            ),
        ],
    ),
    (
        "property_management",
        "物业管理",
        "Property management",
        "住房保障",
        "complex",
        ["物业", "物业费", "维修", "公共区域"],
        [
            LOCATION,
            _attr("property_company", "string", "物业公司"),
            _attr(
                "issue",
                "multivaluelist",
                "问题",
                values=_values(
                    ("repair", "报修不修"), ("fee", "收费"), ("cleaning", "保洁"), ("security", "安保")
                ),
            ),
            DETAIL,
        ],
    ),
    (
        "elevator",
        "电梯",
        "Elevators",
        "住房保障",
        "urgent",
        ["电梯", "困人", "停运", "故障"],
        [
            LOCATION,
            _attr("trapped", "singlevaluelist", "是否困人", required=True, values=YES_NO),
            _attr("building", "string", "楼号单元"),
        ],
    ),
    (
        "group_rental",
        "群租房",
        "Illegal group rental",
        "住房保障",
        "complex",
        ["群租", "隔断", "打隔断"],
        [LOCATION, _attr("residents", "number", "居住人数")],
    ),
    (
        "food_safety",
        "食品安全",
        "Food safety",
        "市场监管",
        "normal",
        ["食品", "过期", "变质", "无证"],
        [
            _attr("shop_name", "string", "商户名称", required=True),
            _attr("purchase_time", "datetime", "购买时间"),
            _attr(
                "issue",
                "multivaluelist",
                "问题",
                values=_values(
                    ("expired", "过期"), ("spoiled", "变质"), ("unlicensed", "无证经营"), ("foreign", "异物")
                ),
            ),
        ],
    ),
    (
        "price_violation",
        "价格违法",
        "Price violations",
        "市场监管",
        "normal",
        ["价格", "乱收费", "明码标价"],
        [
            _attr("shop_name", "string", "商户名称", required=True),
            _attr("amount", "number", "涉及金额（元）"),
            DETAIL,
        ],
    ),
    (
        "stray_animal",
        "流浪动物",
        "Stray animals",
        "社会治安",
        "normal",
        ["流浪狗", "流浪猫", "咬人"],
        [
            LOCATION,
            _attr(
                "animal",
                "singlevaluelist",
                "动物",
                values=_values(("dog", "犬"), ("cat", "猫"), ("other", "其他")),
            ),
        ],
    ),
    (
        "dog_keeping",
        "养犬管理",
        "Dog keeping",
        "社会治安",
        "normal",
        ["养犬", "遛狗", "不牵绳", "犬吠"],
        [
            LOCATION,
            _attr(
                "issue",
                "multivaluelist",
                "问题",
                values=_values(("leash", "未牵绳"), ("waste", "粪便未清理"), ("barking", "犬吠扰民")),
            ),
        ],
    ),
    (
        "neighbor_dispute",
        "邻里纠纷",
        "Neighbour disputes",
        "社会治安",
        "normal",
        ["纠纷", "邻居", "漏水", "调解"],
        [LOCATION, DETAIL],
    ),
    (
        "fire_lane",
        "消防通道占用",
        "Blocked fire lanes",
        "社会治安",
        "urgent",
        ["消防通道", "堵塞", "占用"],
        [LOCATION, OCCURRED_AT],
    ),
    (
        "community_facility",
        "社区公共设施",
        "Community facilities",
        "社区服务",
        "normal",
        ["健身器材", "座椅", "宣传栏", "社区设施"],
        [
            LOCATION,
            _attr(
                "facility",
                "singlevaluelist",
                "设施",
                values=_values(
                    ("fitness", "健身器材"), ("bench", "座椅"), ("board", "宣传栏"), ("other", "其他")
                ),
            ),
        ],
    ),
    (
        "elderly_care",
        "养老服务",
        "Elderly care",
        "民生保障",
        "normal",
        ["养老", "助餐", "老人", "居家养老"],
        [
            LOCATION,
            _attr(
                "service",
                "singlevaluelist",
                "服务",
                values=_values(("meals", "老年助餐"), ("home", "居家照护"), ("subsidy", "补贴申领")),
            ),
        ],
    ),
    (
        "elderly_institution",
        "养老机构",
        "Elderly-care institutions",
        "民生保障",
        "normal",
        ["养老院", "养老机构"],
        [_attr("institution", "string", "机构名称", required=True), DETAIL],
    ),
    (
        "disability_service",
        "残疾人服务",
        "Disability services",
        "民生保障",
        "normal",
        ["残疾", "无障碍", "助残"],
        [LOCATION, DETAIL],
    ),
    (
        "social_assistance",
        "社会救助",
        "Social assistance",
        "民生保障",
        "normal",
        ["低保", "救助", "困难"],
        [_attr("household_size", "number", "家庭人口"), DETAIL],
    ),
    (
        "medical_service",
        "医疗服务",
        "Medical services",
        "卫生健康",
        "normal",
        ["医院", "挂号", "医生", "社区卫生"],
        [_attr("institution", "string", "医疗机构名称", required=True), OCCURRED_AT, DETAIL],
    ),
    (
        "vector_control",
        "病媒生物防制",
        "Pest and vector control",
        "卫生健康",
        "normal",
        ["老鼠", "蟑螂", "蚊子"],
        [
            LOCATION,
            _attr(
                "pest",
                "multivaluelist",
                "种类",
                values=_values(("rats", "鼠"), ("cockroaches", "蟑螂"), ("mosquitoes", "蚊蝇")),
            ),
        ],
    ),
    (
        "citizen_service",
        "政务服务咨询",
        "Public-service enquiries",
        "政务服务",
        "normal",
        ["办事", "咨询", "证明"],
        [_attr("matter", "string", "办理事项", required=True), DETAIL],
    ),
    (
        "party_service",
        "党群服务",
        "Party and community activities",
        "党群服务",
        "normal",
        ["党员", "活动", "党群"],
        [DETAIL],
    ),
    (
        "volunteer_service",
        "志愿服务",
        "Volunteering",
        "党群服务",
        "normal",
        ["志愿者", "志愿服务"],
        [_attr("activity_date", "datetime", "活动时间"), DETAIL],
    ),
    (
        "staff_conduct",
        "街道工作人员服务",
        "Street staff conduct",
        "政务服务",
        "normal",
        ["态度", "推诿", "不作为"],
        [_attr("office", "string", "科室或窗口"), OCCURRED_AT, DETAIL],
    ),
]

# 街道职责清单: (block code, block name, [(item code, item name, [category codes])])
DUTY_LIST: list[tuple[str, str, list[tuple[str, str, list[str]]]]] = [
    (
        "party",
        "党群工作和社区建设",
        [
            ("party-01", "党建引领接诉即办与社区党组织建设", ["party_service"]),
            ("party-02", "党群服务中心运行和党员活动组织", ["party_service"]),
            ("party-03", "社区志愿服务组织与管理", ["volunteer_service"]),
        ],
    ),
    (
        "safety",
        "平安建设",
        [
            ("safety-01", "矛盾纠纷排查调处", ["neighbor_dispute"]),
            ("safety-02", "文明养犬宣传与劝导", ["dog_keeping"]),
            ("safety-03", "消防通道及安全隐患排查", ["fire_lane"]),
            ("safety-04", "综治网格巡查", ["neighbor_dispute", "fire_lane"]),
        ],
    ),
    (
        "city_management",
        "城市管理",
        [
            ("cm-01", "街巷环境卫生", ["garbage_piling", "back_alley"]),
            ("cm-02", "占道经营整治", ["street_vendor"]),
            ("cm-03", "非法小广告清理", ["illegal_advertising"]),
            ("cm-04", "共享单车停放秩序", ["shared_bike"]),
            ("cm-05", "背街小巷长效管理", ["back_alley"]),
        ],
    ),
    (
        "community",
        "社区治理",
        [
            ("community-01", "社区公共设施维护", ["community_facility"]),
            ("community-02", "居民自治停车管理", ["residential_parking"]),
            ("community-03", "楼门院治理与议事协商", ["community_facility", "neighbor_dispute"]),
        ],
    ),
    (
        "livelihood",
        "民生保障",
        [
            ("livelihood-01", "居家养老服务", ["elderly_care"]),
            ("livelihood-02", "残疾人帮扶", ["disability_service"]),
            ("livelihood-03", "社会救助申请受理", ["social_assistance"]),
        ],
    ),
    (
        "support",
        "综合保障",
        [
            ("support-01", "政务服务事项咨询与代办", ["citizen_service"]),
            ("support-02", "街道工作人员作风与服务", ["staff_conduct"]),
            ("support-03", "政务公开与信息查询", ["citizen_service"]),
        ],
    ),
]

# Duty-list categories go to a street unit; the rest to departments.
# (category, street unit kind, the unit's code suffix: which of the street's offices or centres)
STREET_RULES: list[tuple[str, str, str]] = [
    ("garbage_piling", "enforcement_team", "enforcement"),
    ("back_alley", "office", "city-management"),
    ("street_vendor", "enforcement_team", "enforcement"),
    ("illegal_advertising", "enforcement_team", "enforcement"),
    ("shared_bike", "office", "city-management"),
    ("neighbor_dispute", "office", "safety"),
    ("dog_keeping", "office", "safety"),
    ("fire_lane", "office", "safety"),
    ("community_facility", "office", "community"),
    ("residential_parking", "office", "community"),
    ("elderly_care", "office", "livelihood"),
    ("disability_service", "office", "livelihood"),
    ("social_assistance", "centre", "citizen-centre"),
    ("citizen_service", "centre", "citizen-centre"),
    ("party_service", "centre", "party-centre"),
    ("volunteer_service", "centre", "party-centre"),
    ("staff_conduct", "office", "support"),
]

# (category, lead kind, co kinds)
DEPARTMENT_RULES: list[tuple[str, str, list[str]]] = [
    ("public_toilet", "city_management", []),
    ("illegal_construction", "enforcement", ["housing"]),
    ("construction_dust", "housing", ["environment", "enforcement"]),
    ("air_pollution", "environment", ["enforcement"]),
    ("noise", "environment", ["public_security"]),
    ("heating", "heating", ["housing"]),
    ("water_supply", "water_supply", ["water"]),
    ("power_outage", "power", []),
    ("gas", "gas", ["public_security"]),
    ("sewage_overflow", "water", ["city_management"]),
    ("manhole_cover", "city_management", ["water"]),
    ("road_damage", "transport", ["city_management"]),
    ("street_light", "city_management", []),
    ("traffic_signal", "public_security", ["transport"]),
    ("greening", "landscaping", []),
    ("property_management", "housing", []),
    ("elevator", "market_regulation", ["housing"]),
    ("group_rental", "housing", ["public_security"]),
    ("food_safety", "market_regulation", ["health"]),
    ("price_violation", "market_regulation", []),
    ("stray_animal", "public_security", ["city_management"]),
    ("elderly_institution", "civil_affairs", ["health"]),
    ("medical_service", "health", []),
    ("vector_control", "health", ["city_management"]),
]

# Rules narrowed to a district or a street: (category, district, street, lead, co)
LOCAL_RULES: list[tuple[str, str | None, str | None, str, list[str]]] = [
    # 西城: night-time noise is handled by the police first (历史文化街区, dense residential blocks).
    ("noise", "xicheng", None, "public_security", ["environment"]),
    # 什刹海: lakeside trees and banks are shared with the water authority.
    ("greening", None, "xc-shichahai", "landscaping", ["water"]),
]

SLA = {
    "emergency": {"sign_off": "5m", "contact": "30m", "report_in": "30m", "resolve": "2h"},
    "urgent": {"sign_off": "15m", "contact": "2h", "report_in": "2h", "resolve": "24h"},
    "normal": {"sign_off": "30m", "contact": "24h", "report_in": "24h", "resolve": "7d"},
    "complex": {"sign_off": "1h", "contact": "2d", "report_in": "3wd", "resolve": "15wd"},
}
SCORING = {
    "response": 0.2,
    "resolution": 0.3,
    "satisfaction": 0.3,
    "on_time": 0.1,
    "street_evaluation": 0.1,
    "min_sample": 5,
}


def short_district_name(name: str) -> str:
    """东城区 → 东城."""
    return name[:-1] if name.endswith("区") else name


def street_units(street_code: str, street_name: str) -> list[dict[str, str]]:
    """The ten 六室一队三中心 units of one street."""
    return [
        {"code": f"{street_code}-{slug}", "name": f"{street_name}{name}", "kind": kind}
        for slug, name, kind in STREET_UNITS
    ]


def _ordered(attr: dict[str, Any], order: int) -> dict[str, Any]:
    out = {k: v for k, v in attr.items() if k != "values"}
    out["order"] = order
    if "values" in attr:
        out["values"] = [dict(v) for v in attr["values"]]
    return out


def categories() -> list[dict[str, Any]]:
    return [
        {
            "code": code,
            "name": name,
            "name_en": name_en,
            "group": group,
            "keywords": keywords,
            "urgency": urgency,
            "attributes": [_ordered(attr, i) for i, attr in enumerate(attributes, start=1)],
        }
        for code, name, name_en, group, urgency, keywords, attributes in CATEGORIES
    ]


def duty_list() -> list[dict[str, Any]]:
    return [
        {
            "code": code,
            "name": name,
            "items": [{"code": ic, "name": iname, "categories": cats} for ic, iname, cats in items],
        }
        for code, name, items in DUTY_LIST
    ]


def rules() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"category": category, "street_unit_kind": kind, "street_unit": unit}
        for category, kind, unit in STREET_RULES
    ]
    for category, lead, co in DEPARTMENT_RULES:
        rule: dict[str, Any] = {"category": category, "lead": lead}
        if co:
            rule["co"] = co
        out.append(rule)
    for category, district, street, lead, co in LOCAL_RULES:
        rule = {"category": category}
        if district:
            rule["district"] = district
        if street:
            rule["street"] = street
        rule["lead"] = lead
        if co:
            rule["co"] = co
        out.append(rule)
    return out


def policies() -> dict[str, Any]:
    return {"sla": {u: dict(p) for u, p in SLA.items()}, "scoring": dict(SCORING)}


def clients(department_codes: list[str], street_codes: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"client_id": "hotline", "kind": "hotline", "secret": "demo-hotline-secret"},
        {"client_id": "admin", "kind": "admin", "secret": "demo-admin-secret"},
        {"client_id": "viewer", "kind": "viewer", "secret": "demo-viewer-secret"},
    ]
    for code in department_codes:
        cid = f"dept-{code}"
        out.append(
            {"client_id": cid, "kind": "department", "secret": f"demo-{cid}-secret", "department": code}
        )
    for code in street_codes:
        cid = f"street-{code}"
        out.append({"client_id": cid, "kind": "street", "secret": f"demo-{cid}-secret", "street": code})
    return out


def departments(districts: list[tuple[str, str, str, list[str]]]) -> list[dict[str, Any]]:
    """One agency per department and district serving all of that district's streets.

    `districts` holds (district code, agency prefix, district name, street codes).
    """
    out: list[dict[str, Any]] = []
    for code, name, kind, level, parent, template in DEPARTMENTS:
        dept: dict[str, Any] = {"code": code, "name": name, "kind": kind, "level": level}
        if parent:
            dept["parent"] = parent
        dept["agencies"] = [
            {
                "code": f"{prefix}-{code}",
                "name": template.format(d=dname, s=short_district_name(dname)),
                "district": dcode,
                "serves": list(streets),
            }
            for dcode, prefix, dname, streets in districts
        ]
        out.append(dept)
    return out


def build_demo_city(seed: int = 12345) -> dict[str, Any]:
    """The demo city as plain data (what `load_city` reads back)."""
    rng = random.Random(seed)
    districts: list[dict[str, Any]] = []
    served: list[tuple[str, str, str, list[str]]] = []
    for dcode, prefix, dname, backstop in DISTRICTS:
        streets: list[dict[str, Any]] = []
        for scode, (sdistrict, sname, box, community_names) in STREETS.items():
            if sdistrict != dcode:
                continue
            rings = grid_rings(box, len(community_names), rng, jitter=0.12)
            communities = [
                {
                    "code": f"{scode}-{i:02d}",
                    "name": cname,
                    "households": rng.randrange(800, 4500, 10),
                    "polygon": [[lon, lat] for lon, lat in ring],
                }
                for i, (cname, ring) in enumerate(zip(community_names, rings, strict=True), start=1)
            ]
            streets.append(
                {
                    "code": scode,
                    "name": sname,
                    "kind": "street",
                    "units": street_units(scode, sname),
                    "communities": communities,
                }
            )
        districts.append(
            {
                "code": dcode,
                "name": dname,
                "streets": streets,
                "backstop": {"code": f"{dcode}-backstop", "name": backstop},
            }
        )
        served.append((dcode, prefix, dname, [s["code"] for s in streets]))
    street_codes = [s["code"] for d in districts for s in d["streets"]]
    return {
        "version": 1,
        "city": dict(CITY),
        "districts": districts,
        "departments": departments(served),
        "categories": categories(),
        "duty_list": duty_list(),
        "rules": rules(),
        "policies": policies(),
        "clients": clients([code for code, *_ in DEPARTMENTS], street_codes),
    }


class _FlowList(list[Any]):
    """A list written on one line (`[a, b]`)."""


class _FlowDict(dict[str, Any]):
    """A mapping written on one line (`{a: 1, b: 2}`)."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_flow_list(dumper: yaml.SafeDumper, data: _FlowList) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


def _represent_flow_dict(dumper: yaml.SafeDumper, data: _FlowDict) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)


_Dumper.add_representer(_FlowList, _represent_flow_list)
_Dumper.add_representer(_FlowDict, _represent_flow_dict)

# Lists written on one line, and lists whose items (small mappings) are each written on one line.
_FLOW_LISTS = {"keywords", "serves", "categories", "co"}
_FLOW_ITEM_LISTS = {"units", "agencies", "rules", "clients"}


def _prepare(value: Any, key: str | None = None) -> Any:
    """Wrap the parts of the data that read better on one line."""
    if isinstance(value, dict):
        out = {k: _prepare(v, k) for k, v in value.items()}
        if key in {"city", "backstop", "scoring"}:
            return _FlowDict(out)
        if key == "sla":
            return {k: _FlowDict(v) for k, v in out.items()}
        return out
    if isinstance(value, list | tuple):
        if key == "polygon":
            return _FlowList(_FlowList(point) for point in value)
        if key == "values":
            return _FlowList(_FlowDict(v) for v in value)
        items = [_prepare(v) for v in value]
        if key in _FLOW_LISTS and not any(isinstance(v, dict | list) for v in items):
            return _FlowList(items)
        if key in _FLOW_ITEM_LISTS:
            return [_FlowDict(v) for v in items]
        return items
    return value


def dump_city_yaml(data: dict[str, Any], header: str = "") -> str:
    """City data as readable YAML: block style, short lists and small mappings on one line."""
    body = yaml.dump(
        _prepare(data),
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=200,
        default_flow_style=False,
    )
    return header + body


DEMO_HEADER = """\
# Whistle demo city: 北京市东城区、西城区 (a slice of Beijing).
# Format: services/registry/city_data.py (CityData); see services/registry/data/README.md.
# Regenerate with: python -m services.registry.demo_city_build > services/registry/data/demo_city.yaml
"""


def main() -> None:
    sys.stdout.write(dump_city_yaml(build_demo_city(), header=DEMO_HEADER))


if __name__ == "__main__":
    main()
