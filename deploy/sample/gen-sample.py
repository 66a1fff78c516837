#!/usr/bin/env python3
"""deploy/sample/gen-sample.py — writes the demo's sample retail chain.

    python3 deploy/sample/gen-sample.py [--check | --check-all]

Deterministic (a fixed seed, no clock, no randomness from outside): run it
again and the files come out byte for byte the same; they are committed, so
`make demo` never runs it.  `--check` writes into a temp dir and compares
with the committed files (the CSVs, every 16th photo drawn again, the
photos' names; `--check-all` draws them all), exit 1 naming differences.

Writes, beside this script:
  locations.csv            code;name;kind;price_list: 3 shops, 2 warehouses,
                           the online store (read by deploy/demo.sh)
  photos/*.png             one picture per product (a few with a second
                           view), 128x128 RGB PNGs drawn here with zlib and
                           struct, a few KB each; photos/*-v2.png are the
                           replacements the trading day imports
  full/, small/            the chain at two sizes (DEMO_SAMPLE): about 300
                           products, and 20 (one of each leaf group and the
                           delivery item)
    catalog.csv            docs/import.md: Group;Article;Name;Description;
                           SKU;Barcode;Color;Size;option:Материал;Price;
                           Photos (';', decimal commas, as a Russian-locale
                           spreadsheet exports), prices of the shops' list
                           RETAIL
    prices-online.csv      sku;price;old_price of the online list ONLINE
                           (sale items carry an old price; the "Delivery"
                           service item is priced only here)
    stock.csv              location;sku;qty: the opening stock (receipts)
    day/receipts.csv       location;sku;qty: supplier deliveries
    day/sales.csv          location;sku;qty: sales in the shops
    day/transfers.csv      from;to;sku;qty
    day/prices-online.csv  sku;price;old_price: the day's price change
    day/orders.csv         order;sku;qty;customer;delivery_price: the
                           shoppers' online orders, one row per line
    day/photo.csv          catalog rows of the product whose photo is
                           replaced (Article;Name;SKU;Photos)
"""
import argparse
import filecmp
import os
import random
import shutil
import struct
import sys
import tempfile
import zlib

SEED = 17

# Colours: Russian value of the `color` option, SKU code, RGB.
COLOURS = [
    ("чёрный", "BLK", (38, 38, 42)),
    ("белый", "WHT", (246, 245, 240)),
    ("серый", "GRY", (140, 143, 148)),
    ("тёмно-синий", "NVY", (32, 46, 92)),
    ("синий", "BLU", (48, 98, 172)),
    ("голубой", "LBL", (132, 182, 226)),
    ("бежевый", "BEI", (214, 194, 158)),
    ("коричневый", "BRN", (118, 78, 50)),
    ("красный", "RED", (188, 42, 46)),
    ("бордовый", "BRD", (118, 28, 42)),
    ("зелёный", "GRN", (52, 118, 72)),
    ("хаки", "KHK", (122, 120, 80)),
    ("розовый", "PNK", (230, 152, 172)),
    ("жёлтый", "YEL", (234, 194, 64)),
]

SIZES = {
    "women": ["XS", "S", "M", "L", "XL"],
    "men": ["S", "M", "L", "XL", "XXL"],
    "women_trousers": ["40", "42", "44", "46", "48"],
    "men_trousers": ["46", "48", "50", "52", "54"],
    "kids": ["98", "104", "110", "116", "122", "128"],
    "women_shoes": ["36", "37", "38", "39", "40", "41"],
    "men_shoes": ["40", "41", "42", "43", "44", "45"],
    "none": [],
}

MODELS = [
    "Marina", "Riviera", "Amber", "Sofia", "Milano", "Verona", "Nika",
    "Alba", "Capri", "Luna", "Vesna", "Lada", "Olivia", "Siena", "Bella",
    "Oxford", "Boston", "Denver", "Nordic", "Urban", "Classic", "Baltic",
    "Volga", "Ural", "Altai", "Taiga", "Neva", "Kama", "Onega", "Ladoga",
    "Metro", "Campus", "Weekend", "Harbor", "Summit", "Trail", "Breeze",
    "Polar", "Aurora", "Comet", "Orbit", "Delta", "Sigma", "Nova", "Pulse",
]

# Leaf groups: path, article prefix, shape, size scale, material choices,
# retail price range (roubles), product count in the full sample, names.
LEAVES = [
    ("Одежда/Женская/Платья", "WDR", "dress", "women",
     ["хлопок", "лён", "вискоза", "шёлк"], (2490, 8990), 22,
     ["Платье льняное", "Платье-рубашка", "Платье трикотажное", "Платье макси",
      "Платье в горошек", "Сарафан", "Wrap Dress", "Linen Midi Dress"]),
    ("Одежда/Женская/Блузки", "WBL", "shirt", "women",
     ["хлопок", "вискоза", "шёлк"], (1790, 5490), 16,
     ["Блузка", "Блузка с бантом", "Рубашка оверсайз", "Silk Blouse"]),
    ("Одежда/Женская/Джинсы", "WJN", "trousers", "women_trousers",
     ["деним", "стрейч-деним"], (2990, 6990), 16,
     ["Джинсы Mom", "Джинсы прямые", "Джинсы скинни", "Wide Leg Jeans"]),
    ("Одежда/Женская/Куртки", "WJK", "jacket", "women",
     ["полиэстер", "хлопок", "экокожа"], (4990, 14990), 14,
     ["Куртка стёганая", "Тренч", "Бомбер", "Парка", "Puffer Jacket"]),
    ("Одежда/Мужская/Рубашки", "MSH", "shirt", "men",
     ["хлопок", "лён", "фланель"], (1990, 5990), 22,
     ["Рубашка Oxford", "Рубашка льняная", "Рубашка фланелевая",
      "Рубашка в клетку", "Denim Shirt"]),
    ("Одежда/Мужская/Футболки", "MTS", "tshirt", "men",
     ["хлопок", "хлопок/эластан"], (790, 2490), 24,
     ["Футболка базовая", "Футболка с принтом", "Поло", "Лонгслив",
      "Cotton Tee", "Henley Tee"]),
    ("Одежда/Мужская/Брюки", "MTR", "trousers", "men_trousers",
     ["хлопок", "шерсть", "деним"], (2490, 7990), 16,
     ["Брюки чинос", "Брюки карго", "Джинсы прямые", "Slim Chinos"]),
    ("Одежда/Мужская/Куртки", "MJK", "jacket", "men",
     ["полиэстер", "хлопок", "шерсть"], (5990, 16990), 14,
     ["Куртка утеплённая", "Ветровка", "Пуховик", "Field Jacket"]),
    ("Одежда/Детская/Футболки", "KTS", "tshirt", "kids",
     ["хлопок"], (590, 1490), 14,
     ["Футболка детская", "Футболка с динозавром", "Kids Tee"]),
    ("Одежда/Детская/Комбинезоны", "KOV", "overalls", "kids",
     ["хлопок", "мембрана"], (1990, 7490), 10,
     ["Комбинезон", "Комбинезон зимний", "Полукомбинезон"]),
    ("Обувь/Женская/Кроссовки", "WSN", "sneaker", "women_shoes",
     ["текстиль", "кожа", "замша"], (3990, 9990), 16,
     ["Кроссовки беговые", "Кроссовки на платформе", "Runner", "Court Sneaker"]),
    ("Обувь/Женская/Ботинки", "WBT", "boot", "women_shoes",
     ["кожа", "замша"], (5990, 13990), 12,
     ["Ботинки челси", "Ботильоны", "Ботинки на шнуровке"]),
    ("Обувь/Мужская/Кроссовки", "MSN", "sneaker", "men_shoes",
     ["текстиль", "кожа", "замша"], (3990, 10990), 16,
     ["Кроссовки беговые", "Кроссовки треккинговые", "Runner Pro",
      "Trail Sneaker"]),
    ("Обувь/Мужская/Ботинки", "MBT", "boot", "men_shoes",
     ["кожа", "нубук"], (6990, 15990), 12,
     ["Ботинки челси", "Ботинки рабочие", "Дерби", "Hiking Boot"]),
    ("Обувь/Мужская/Кеды", "MKD", "sneaker", "men_shoes",
     ["канвас", "кожа"], (2490, 5990), 10,
     ["Кеды низкие", "Кеды высокие", "Canvas Low"]),
    ("Аксессуары/Сумки/Рюкзаки", "BPK", "backpack", "none",
     ["полиэстер", "нейлон", "кожа"], (2490, 8990), 16,
     ["Рюкзак городской 20 л", "Рюкзак туристический 35 л", "Daypack",
      "Рюкзак-роллтоп"]),
    ("Аксессуары/Сумки/Шопперы", "TOT", "tote", "none",
     ["хлопок", "канвас", "джут"], (790, 2990), 12,
     ["Шоппер", "Сумка-тоут", "Canvas Tote"]),
    ("Аксессуары/Головные уборы/Кепки", "CAP", "cap", "none",
     ["хлопок", "полиэстер"], (890, 2490), 14,
     ["Кепка бейсболка", "Кепка-пятипанелька", "Dad Cap"]),
    ("Аксессуары/Головные уборы/Шапки", "HAT", "beanie", "none",
     ["шерсть", "акрил", "кашемир"], (990, 3990), 12,
     ["Шапка вязаная", "Шапка с отворотом", "Beanie"]),
    ("Аксессуары/Шарфы и платки/Шарфы", "SCF", "scarf", "none",
     ["шерсть", "кашемир", "хлопок"], (1290, 5990), 11,
     ["Шарф вязаный", "Шарф в клетку", "Снуд", "Wool Scarf"]),
]

DESCRIPTIONS = {
    "dress": "Лёгкое платье на каждый день. Свободный крой, длина миди.",
    "shirt": "Прямой крой, застёжка на пуговицы.",
    "trousers": "Посадка на талии, пять карманов.",
    "jacket": "Тёплая и лёгкая, капюшон убирается в воротник.",
    "tshirt": "Мягкий трикотаж, круглый вырез.",
    "overalls": "Регулируемые лямки, молния по всей длине.",
    "sneaker": "Амортизирующая подошва, дышащий верх.",
    "boot": "Устойчивый каблук, прорезиненная подошва.",
    "backpack": "Отделение для ноутбука 15\", водоотталкивающая ткань.",
    "tote": "Вместительная сумка на плечо с внутренним карманом.",
    "cap": "Регулируемый ремешок, изогнутый козырёк.",
    "beanie": "Двойная вязка, не колется.",
    "scarf": "Длина 180 см, мягкие кисти.",
}

LOCATIONS = [
    ("WH1", "Склад Подольск", "warehouse", ""),
    ("WH2", "Склад Химки", "warehouse", ""),
    ("SHOP1", "Магазин Тверская", "outlet", "RETAIL"),
    ("SHOP2", "Магазин Арбат", "outlet", "RETAIL"),
    ("SHOP3", "Магазин Казань", "outlet", "RETAIL"),
    ("WEB", "Интернет-магазин", "online", "ONLINE"),
]

CUSTOMERS = [
    "Анна Смирнова", "Иван Петров", "Мария Кузнецова", "Дмитрий Соколов",
    "Елена Попова", "Сергей Волков", "Ольга Новикова", "Алексей Морозов",
    "Татьяна Лебедева", "Николай Козлов", "Jane Miller", "Tom Becker",
]

DELIVERY = ("Услуги", "SRV-DELIVERY", "Доставка / Delivery", "DELIVERY", 300)
PX = 128  # photo size


# ------------------------------------------------------------------ photos

def png_bytes(w, h, rows):
    """An 8-bit RGB PNG; every row uses filter 2 (Up), which suits the
    vertical gradients and the flat shapes."""
    def chunk(t, d):
        c = struct.pack(">I", len(d)) + t + d
        return c + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    raw = bytearray()
    prev = bytes(w * 3)
    for r in rows:
        raw.append(2)
        raw.extend((r[i] - prev[i]) & 0xff for i in range(w * 3))
        prev = r
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
            + chunk(b"IEND", b""))


def poly_spans(y, pts):
    """The x intervals where the horizontal line y is inside the polygon
    (even-odd rule)."""
    xs = []
    j = len(pts) - 1
    for i in range(len(pts)):
        xi, yi = pts[i]
        xj, yj = pts[j]
        if (yi > y) != (yj > y):
            xs.append((xj - xi) * (y - yi) / (yj - yi) + xi)
        j = i
    xs.sort()
    return [(xs[k], xs[k + 1]) for k in range(0, len(xs) - 1, 2)]


def ell_spans(y, cx, cy, rx, ry):
    t = (y - cy) / ry
    if abs(t) > 1.0:
        return []
    dx = rx * (1.0 - t * t) ** 0.5
    return [(cx - dx, cx + dx)]


def shape_parts(shape, v):
    """The shape as (kind, params, tone) parts in unit coordinates; tone
    darkens (<1) or lightens (>1) the product colour. v varies details."""
    P = []
    if shape in ("tshirt", "shirt", "jacket"):
        long_sleeve = shape != "tshirt"
        sl = 0.62 if long_sleeve else 0.40
        P.append(("poly", [(0.30, 0.18), (0.42, 0.14), (0.58, 0.14), (0.70, 0.18),
                           (0.92, 0.18 + sl * 0.55), (0.82, 0.22 + sl * 0.6),
                           (0.72, 0.36), (0.72, 0.86), (0.28, 0.86), (0.28, 0.36),
                           (0.18, 0.22 + sl * 0.6), (0.08, 0.18 + sl * 0.55)], 1.0))
        P.append(("ell", (0.5, 0.15, 0.08, 0.05), 0.55))
        if shape == "shirt":
            P.append(("poly", [(0.495, 0.18), (0.505, 0.18), (0.505, 0.86), (0.495, 0.86)], 0.7))
            for k in range(5):
                P.append(("ell", (0.52, 0.26 + k * 0.12, 0.012, 0.012), 0.5))
        if shape == "jacket":
            P.append(("poly", [(0.49, 0.16), (0.51, 0.16), (0.51, 0.86), (0.49, 0.86)], 0.6))
            P.append(("poly", [(0.30, 0.60), (0.44, 0.60), (0.44, 0.62), (0.30, 0.62)], 0.7))
            P.append(("poly", [(0.56, 0.60), (0.70, 0.60), (0.70, 0.62), (0.56, 0.62)], 0.7))
        if v % 3 == 1:
            for k in range(4):
                y0 = 0.40 + k * 0.11
                P.append(("poly", [(0.28, y0), (0.72, y0), (0.72, y0 + 0.03), (0.28, y0 + 0.03)], 1.35))
        elif v % 3 == 2:
            P.append(("ell", (0.60, 0.34, 0.05, 0.05), 1.4))
    elif shape == "dress":
        P.append(("poly", [(0.40, 0.12), (0.44, 0.12), (0.47, 0.20), (0.53, 0.20),
                           (0.56, 0.12), (0.60, 0.12), (0.63, 0.40), (0.80, 0.90),
                           (0.20, 0.90), (0.37, 0.40)], 1.0))
        P.append(("poly", [(0.37, 0.40), (0.63, 0.40), (0.63, 0.44), (0.37, 0.44)], 0.7))
        if v % 2:
            for k in range(9):
                P.append(("ell", (0.32 + (k % 3) * 0.18, 0.55 + (k // 3) * 0.12, 0.025, 0.025), 1.45))
    elif shape in ("trousers", "overalls"):
        top = 0.30 if shape == "overalls" else 0.12
        P.append(("poly", [(0.30, top), (0.70, top), (0.74, 0.90), (0.56, 0.90),
                           (0.50, 0.40), (0.44, 0.90), (0.26, 0.90)], 1.0))
        P.append(("poly", [(0.30, top), (0.70, top), (0.70, top + 0.04), (0.30, top + 0.04)], 0.65))
        if shape == "overalls":
            P.append(("poly", [(0.36, 0.12), (0.64, 0.12), (0.64, 0.32), (0.36, 0.32)], 1.0))
            P.append(("poly", [(0.34, 0.04), (0.38, 0.04), (0.38, 0.14), (0.34, 0.14)], 0.7))
            P.append(("poly", [(0.62, 0.04), (0.66, 0.04), (0.66, 0.14), (0.62, 0.14)], 0.7))
            P.append(("ell", (0.50, 0.21, 0.06, 0.05), 1.35 if v % 2 else 0.7))
        else:
            P.append(("poly", [(0.36, top + 0.08), (0.44, top + 0.08), (0.42, top + 0.16)], 0.7))
            P.append(("poly", [(0.56, top + 0.08), (0.64, top + 0.08), (0.58, top + 0.16)], 0.7))
    elif shape in ("sneaker", "boot"):
        h = 0.18 if shape == "boot" else 0.38
        P.append(("poly", [(0.14, 0.74), (0.14, 0.54 - (0.2 if shape == "boot" else 0)),
                           (0.22, h), (0.40, h), (0.46, 0.52), (0.84, 0.58),
                           (0.90, 0.66), (0.90, 0.74)], 1.0))
        P.append(("poly", [(0.12, 0.72), (0.92, 0.72), (0.92, 0.80), (0.12, 0.80)],
                  1.6 if v % 2 else 0.45))
        for k in range(3):
            P.append(("poly", [(0.44 + k * 0.07, 0.50), (0.48 + k * 0.07, 0.50),
                               (0.50 + k * 0.07, 0.56), (0.46 + k * 0.07, 0.56)], 1.4))
    elif shape == "backpack":
        P.append(("ell", (0.50, 0.30, 0.24, 0.16), 1.0))
        P.append(("poly", [(0.26, 0.30), (0.74, 0.30), (0.76, 0.88), (0.24, 0.88)], 1.0))
        P.append(("poly", [(0.32, 0.56), (0.68, 0.56), (0.68, 0.82), (0.32, 0.82)], 0.78))
        P.append(("poly", [(0.32, 0.56), (0.68, 0.56), (0.68, 0.59), (0.32, 0.59)], 0.5))
        P.append(("ell", (0.50, 0.13, 0.06, 0.04), 0.6))
    elif shape == "tote":
        P.append(("ell", (0.50, 0.30, 0.16, 0.18), 0.6))
        P.append(("ell", (0.50, 0.30, 0.12, 0.14), -1))
        P.append(("poly", [(0.22, 0.34), (0.78, 0.34), (0.82, 0.88), (0.18, 0.88)], 1.0))
        if v % 2:
            P.append(("ell", (0.50, 0.62, 0.10, 0.10), 1.45))
    elif shape == "cap":
        P.append(("ell", (0.46, 0.56, 0.30, 0.28), 1.0))
        P.append(("poly", [(0.10, 0.56), (0.90, 0.56), (0.90, 0.86), (0.10, 0.86)], -1))
        P.append(("ell", (0.74, 0.58, 0.20, 0.06), 0.7))
        P.append(("ell", (0.46, 0.29, 0.03, 0.02), 0.6))
    elif shape == "beanie":
        P.append(("ell", (0.50, 0.58, 0.28, 0.32), 1.0))
        P.append(("poly", [(0.18, 0.72), (0.82, 0.72), (0.82, 0.88), (0.18, 0.88)], -1))
        P.append(("poly", [(0.21, 0.58), (0.79, 0.58), (0.79, 0.72), (0.21, 0.72)], 0.8))
        if v % 2:
            P.append(("ell", (0.50, 0.24, 0.08, 0.07), 1.4))
    elif shape == "scarf":
        P.append(("poly", [(0.30, 0.12), (0.70, 0.12), (0.70, 0.30), (0.58, 0.36),
                           (0.58, 0.84), (0.44, 0.84), (0.44, 0.36), (0.30, 0.30)], 1.0))
        for k in range(3):
            P.append(("poly", [(0.44, 0.48 + k * 0.1), (0.58, 0.48 + k * 0.1),
                               (0.58, 0.51 + k * 0.1), (0.44, 0.51 + k * 0.1)], 1.4 if v % 2 else 0.7))
        for k in range(5):
            P.append(("poly", [(0.445 + k * 0.028, 0.84), (0.455 + k * 0.028, 0.84),
                               (0.455 + k * 0.028, 0.90), (0.445 + k * 0.028, 0.90)], 0.8))
    elif shape == "box":
        P.append(("poly", [(0.20, 0.36), (0.50, 0.24), (0.80, 0.36), (0.80, 0.74),
                           (0.50, 0.88), (0.20, 0.74)], 1.0))
        P.append(("poly", [(0.50, 0.48), (0.80, 0.36), (0.80, 0.74), (0.50, 0.88)], 0.8))
        P.append(("poly", [(0.20, 0.36), (0.50, 0.24), (0.80, 0.36), (0.50, 0.48)], 1.25))
    return P


def tone(rgb, t):
    if t >= 1.0:
        return tuple(int(c + (255 - c) * min(1.0, t - 1.0)) for c in rgb)
    return tuple(int(c * t) for c in rgb)


def draw(shape, rgb, variant, mirror=False):
    """Rows of a PX x PX picture: a warm grey gradient, a soft shadow, the
    product's silhouette in its colour with a little side shading; drawn
    at twice the size with scanline spans and averaged down (smooth
    edges)."""
    parts = shape_parts(shape, variant)
    if mirror:
        parts = [(k, [(1.0 - x, y) for x, y in p] if k == "poly"
                  else (1.0 - p[0],) + tuple(p[1:]), t) for k, p, t in parts]
    parts.insert(0, ("ell", (0.5, 0.93, 0.34, 0.035), 0))
    bg_top, bg_bot = (247, 245, 241), (226, 222, 215)
    n = PX * 2
    big = []
    for py in range(n):
        y = (py + 0.5) / n
        f = py / (n - 1)
        bg = tuple(int(bg_top[i] + (bg_bot[i] - bg_top[i]) * f) for i in range(3))
        row = [bg] * n
        for kind, prm, t in parts:
            spans = poly_spans(y, prm) if kind == "poly" else ell_spans(y, *prm)
            for x0, x1 in spans:
                for px in range(max(0, int(x0 * n - 0.5) + 1), min(n, int(x1 * n - 0.5) + 1)):
                    if t < 0:
                        row[px] = bg
                    elif t == 0:
                        row[px] = tuple(int(v * 0.86) for v in bg)
                    else:
                        x = (px + 0.5) / n
                        row[px] = tone(tone(rgb, t), 1.0 - 0.18 * max(0.0, x - 0.5))
        big.append(row)
    rows = []
    for py in range(PX):
        a, b = big[2 * py], big[2 * py + 1]
        out = bytearray()
        for px in range(PX):
            q = (a[2 * px], a[2 * px + 1], b[2 * px], b[2 * px + 1])
            out.extend((q[0][i] + q[1][i] + q[2][i] + q[3][i] + 2) // 4 for i in range(3))
        rows.append(bytes(out))
    return rows


# ----------------------------------------------------------------- catalog

def ean13(n):
    d = "460" + "%09d" % n
    s = sum(int(ch) * (3 if i % 2 else 1) for i, ch in enumerate(d))
    return d + str((10 - s % 10) % 10)


def money(v):
    """Roubles as the spreadsheet writes them: "2 490,00"."""
    s = "%d" % v
    if v >= 1000:
        s = s[:-3] + " " + s[-3:]
    return s + ",00"


def csv_field(s):
    if any(ch in s for ch in ';"\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def build(rnd):
    """The full chain as a list of products (dicts) in file order."""
    products = []
    barcode = 1000
    for li, (path, prefix, shape, scale, mats, (plo, phi), count, names) in enumerate(LEAVES):
        models = MODELS[:]
        rnd.shuffle(models)
        for k in range(count):
            art = "%s-%03d" % (prefix, k + 1)
            name = "%s %s" % (names[k % len(names)], models[k % len(models)])
            if k >= len(models):
                name += " II"
            ncol = rnd.choices([1, 2, 3], [0.6, 0.3, 0.1])[0]
            if shape in ("sneaker", "boot"):
                ncol = rnd.choices([1, 2], [0.8, 0.2])[0]
            cols = rnd.sample(COLOURS, ncol)
            sizes = SIZES[scale]
            if sizes:
                n = 4 if shape in ("sneaker", "boot") else 3
                s0 = rnd.randrange(0, len(sizes) - n + 1)
                sizes = sizes[s0:s0 + n]
            price = rnd.randrange(plo // 100, phi // 100 + 1) * 100 - 10
            mat = rnd.choice(mats)
            desc = "%s\nМатериал: %s." % (DESCRIPTIONS[shape], mat)
            variants = []
            for cname, ccode, _ in cols:
                for sz in (sizes or [""]):
                    sku = "%s-%s" % (art, ccode) + ("-" + sz if sz else "")
                    barcode += 1
                    variants.append({"sku": sku, "barcode": ean13(barcode),
                                     "color": cname, "size": sz})
            nph = 2 if rnd.random() < 0.1 else 1
            photos = ["photos/%s.png" % art.lower()]
            if nph == 2:
                photos.append("photos/%s-back.png" % art.lower())
            products.append({
                "leaf": li, "group": path, "article": art, "name": name,
                "description": desc, "material": mat, "price": price,
                "variants": variants, "photos": photos, "shape": shape,
                "colour": cols[0][2], "detail": rnd.randrange(0, 6),
            })
    return products


def write_csv(path, header, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(";".join(header) + "\r\n")
        for r in rows:
            f.write(";".join(csv_field(str(x)) for x in r) + "\r\n")


def catalog_rows(products):
    rows = []
    for p in products:
        for i, v in enumerate(p["variants"]):
            first = i == 0
            rows.append([p["group"] if first else "", p["article"],
                         p["name"] if first else "",
                         p["description"] if first else "", v["sku"],
                         v["barcode"], v["color"], v["size"],
                         p["material"], money(p["price"]) if p["price"] else "",
                         "|".join(p["photos"]) if first else ""])
    return rows


def write_sample(out, products, rnd, n_orders, n_sales, n_receipts):
    header = ["Group", "Article", "Name", "Description", "SKU", "Barcode",
              "Color", "Size", "option:Материал", "Price", "Photos"]
    write_csv(os.path.join(out, "catalog.csv"), header, catalog_rows(products))

    online = []
    for p in products:
        for v in p["variants"]:
            if p["article"] == DELIVERY[1]:
                online.append([v["sku"], money(DELIVERY[4]), ""])
            elif p["sale"]:
                online.append([v["sku"], money(p["sale"]), money(p["price"])])
            else:
                online.append([v["sku"], money(p["price"]), ""])
    write_csv(os.path.join(out, "prices-online.csv"), ["sku", "price", "old_price"], online)

    goods = [p for p in products if p["article"] != DELIVERY[1]]
    stock, web_qty = [], {}
    for p in goods:
        for v in p["variants"]:
            q = rnd.randrange(12, 41)
            stock.append(["WH1", v["sku"], q])
            web_qty[v["sku"]] = q
            if rnd.random() < 0.3:
                q2 = rnd.randrange(4, 21)
                stock.append(["WH2", v["sku"], q2])
                web_qty[v["sku"]] += q2
    for shop in ("SHOP1", "SHOP2", "SHOP3"):
        for p in goods:
            if rnd.random() < 0.2:
                for v in p["variants"]:
                    stock.append([shop, v["sku"], rnd.randrange(2, 9)])
    write_csv(os.path.join(out, "stock.csv"), ["location", "sku", "qty"], stock)

    day = os.path.join(out, "day")
    shop_stock = [r for r in stock if r[0].startswith("SHOP")]
    sales = [[r[0], r[1], rnd.randrange(1, 3)] for r in rnd.sample(shop_stock, n_sales)]
    write_csv(os.path.join(day, "sales.csv"), ["location", "sku", "qty"], sales)
    all_skus = [v["sku"] for p in goods for v in p["variants"]]
    receipts = [[rnd.choice(["WH1", "WH2"]), s, rnd.randrange(6, 25)]
                for s in rnd.sample(all_skus, n_receipts)]
    write_csv(os.path.join(day, "receipts.csv"), ["location", "sku", "qty"], receipts)

    # Shoppers buy what the online store has plenty of (opening WH1 + WH2
    # of at least 15, no SKU in more than 3 lines), so every order is
    # accepted; the transfer moves stock of a SKU nobody orders.
    buyable = [s for s in all_skus if web_qty[s] >= 15]
    used = {}
    orders = []
    for o in range(1, n_orders + 1):
        nl = rnd.choices([1, 2, 3], [0.55, 0.3, 0.15])[0]
        picks = [s for s in rnd.sample(buyable, nl)]
        cust = CUSTOMERS[(o - 1) % len(CUSTOMERS)]
        dp = rnd.choice([0, 300, 300, 450])
        for s in picks:
            used[s] = used.get(s, 0) + 1
            if used[s] >= 3:
                buyable.remove(s)
            orders.append([o, s, rnd.randrange(1, 3), cust, money(dp)])
    write_csv(os.path.join(day, "orders.csv"),
              ["order", "sku", "qty", "customer", "delivery_price"], orders)
    ordered = {r[1] for r in orders}
    free = [s for s in all_skus if s not in ordered and web_qty[s] >= 15]
    tsku = free[0]
    write_csv(os.path.join(day, "transfers.csv"), ["from", "to", "sku", "qty"],
              [["WH1", "SHOP2", tsku, 5]])

    # The price change: a few products get a new online price (a sale
    # starts on some, ends on one).
    changed = []
    for p in rnd.sample(goods, min(6, len(goods))):
        for v in p["variants"]:
            if p["sale"]:
                changed.append([v["sku"], money(p["price"]), ""])
            else:
                changed.append([v["sku"], money(p["price"] - 500 if p["price"] > 1500 else p["price"] - 100),
                                money(p["price"])])
    write_csv(os.path.join(day, "prices-online.csv"), ["sku", "price", "old_price"], changed)

    # The photo replacement: the first product of the sample gets the
    # second version of its main photo.
    p = goods[0]
    v2 = "../../photos/%s-v2.png" % p["article"].lower()
    write_csv(os.path.join(day, "photo.csv"), ["Article", "Name", "SKU", "Photos"],
              [[p["article"], p["name"] if i == 0 else "", v["sku"],
                "|".join([v2] + ["../" + x for x in p["photos"][1:]]) if i == 0 else ""]
               for i, v in enumerate(p["variants"])])
    return p


PHOTO_NAMES = []


def generate(here, every=1):
    rnd = random.Random(SEED)
    products = build(rnd)
    for p in products:
        p["sale"] = 0
        if rnd.random() < 0.12:
            p["sale"] = int(p["price"] * 0.8) // 100 * 100 - 10
    grp, art, name, sku, price = DELIVERY
    delivery = {"leaf": -1, "group": grp, "article": art, "name": name,
                "description": "Курьерская доставка заказа интернет-магазина.",
                "material": "", "price": 0, "sale": 0, "photos": ["photos/delivery.png"],
                "variants": [{"sku": sku, "barcode": "", "color": "", "size": ""}],
                "shape": "box", "colour": (196, 150, 96), "detail": 0}
    full = products + [delivery]
    small = [next(p for p in products if p["leaf"] == li) for li in range(len(LEAVES) - 1)]
    small.append(delivery)

    write_csv(os.path.join(here, "locations.csv"), ["code", "name", "kind", "price_list"],
              [list(x) for x in LOCATIONS])
    # The CSVs sit one level down: their photo paths go up to photos/.
    for p in full:
        p["photos"] = ["../" + x if not x.startswith("../") else x for x in p["photos"]]
    replaced = []
    replaced.append(write_sample(os.path.join(here, "full"), full, random.Random(SEED + 1), 40, 30, 12))
    replaced.append(write_sample(os.path.join(here, "small"), small, random.Random(SEED + 2), 8, 6, 4))

    # The photos: (file name, how to draw it); `every` > 1 draws only each
    # every-th (a quick --check), the rest are only named.
    todo = []
    for p in full:
        todo.append((p["photos"][0].split("/")[-1],
                     (p["shape"], p["colour"], p["detail"], False)))
        if len(p["photos"]) > 1:
            todo.append((p["photos"][1].split("/")[-1],
                         (p["shape"], tone(p["colour"], 0.8), p["detail"] + 1, True)))
    for p in {p["article"]: p for p in replaced}.values():
        todo.append(("%s-v2.png" % p["article"].lower(),
                     (p["shape"], tone(p["colour"], 1.3), p["detail"] + 2, True)))
    ph = os.path.join(here, "photos")
    os.makedirs(ph, exist_ok=True)
    names = []
    for i, (name, (shape, rgb, detail, mirror)) in enumerate(todo):
        names.append(name)
        if i % every == 0:
            write_png(os.path.join(ph, name), draw(shape, rgb, detail, mirror))
    PHOTO_NAMES[:] = names
    return len(full), sum(len(p["variants"]) for p in full)


def write_png(path, rows):
    with open(path, "wb") as f:
        f.write(png_bytes(PX, PX, rows))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temp dir and compare with the committed "
                         "files (the CSVs, every 16th photo, the photos' names)")
    ap.add_argument("--check-all", action="store_true", help="--check drawing every photo")
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    if not (a.check or a.check_all):
        np_, nv = generate(here)
        print("gen-sample: %d products, %d variants in the full sample" % (np_, nv))
        return 0
    tmp = tempfile.mkdtemp(prefix="omnisync-sample.")
    try:
        generate(tmp, 1 if a.check_all else 16)
        bad = []
        for dd, _, files in os.walk(tmp):
            for fn in sorted(files):
                got = os.path.join(dd, fn)
                rel = os.path.relpath(got, tmp)
                want = os.path.join(here, rel)
                if not os.path.exists(want) or not filecmp.cmp(got, want, shallow=False):
                    bad.append(rel)
        have = set(os.listdir(os.path.join(here, "photos")))
        bad += ["photos/%s (missing)" % n for n in sorted(set(PHOTO_NAMES) - have)]
        bad += ["photos/%s (not generated)" % n for n in sorted(have - set(PHOTO_NAMES))]
        if bad:
            print("gen-sample: differs from the committed sample: %s" % ", ".join(bad[:5]),
                  file=sys.stderr)
            return 1
        print("gen-sample: the committed sample is what the generator writes "
              "(CSVs; %s of %d photos drawn and compared)"
              % ("all" if a.check_all else "every 16th", len(PHOTO_NAMES)))
        return 0
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    sys.exit(main())
