//! Colours: parsing the names a theme may use, detecting what the terminal can show, and
//! degrading true colour to the 256-colour cube or the 16 ANSI colours.

use ratatui::style::Color;

/// The 16 ANSI colours by name (ratatui's naming: `gray` is ANSI 7, `dark-gray` ANSI 8), with
/// their conventional xterm RGB values. Aliases follow.
pub(crate) const ANSI: &[(&str, Color, (u8, u8, u8))] = &[
    ("black", Color::Black, (0, 0, 0)),
    ("red", Color::Red, (205, 0, 0)),
    ("green", Color::Green, (0, 205, 0)),
    ("yellow", Color::Yellow, (205, 205, 0)),
    ("blue", Color::Blue, (0, 0, 238)),
    ("magenta", Color::Magenta, (205, 0, 205)),
    ("cyan", Color::Cyan, (0, 205, 205)),
    ("gray", Color::Gray, (229, 229, 229)),
    ("dark-gray", Color::DarkGray, (127, 127, 127)),
    ("light-red", Color::LightRed, (255, 0, 0)),
    ("light-green", Color::LightGreen, (0, 255, 0)),
    ("light-yellow", Color::LightYellow, (255, 255, 0)),
    ("light-blue", Color::LightBlue, (92, 92, 255)),
    ("light-magenta", Color::LightMagenta, (255, 0, 255)),
    ("light-cyan", Color::LightCyan, (0, 255, 255)),
    ("white", Color::White, (255, 255, 255)),
];

/// Other spellings of the ANSI names.
const ALIASES: &[(&str, &str)] = &[
    ("grey", "gray"),
    ("dark-grey", "dark-gray"),
    ("bright-black", "dark-gray"),
    ("bright-red", "light-red"),
    ("bright-green", "light-green"),
    ("bright-yellow", "light-yellow"),
    ("bright-blue", "light-blue"),
    ("bright-magenta", "light-magenta"),
    ("bright-cyan", "light-cyan"),
    ("bright-white", "white"),
];

/// Parses a colour written as `#rrggbb`, an ANSI name or `reset` (not a palette name).
pub fn parse_color(s: &str) -> Option<Color> {
    if let Some(hex) = s.strip_prefix('#') {
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        return Some(Color::Rgb(channel(0)?, channel(2)?, channel(4)?));
    }
    let lower = s.to_ascii_lowercase().replace('_', "-");
    if lower == "reset" {
        return Some(Color::Reset);
    }
    let name = ALIASES
        .iter()
        .find(|(alias, _)| *alias == lower)
        .map_or(lower.as_str(), |(_, name)| name);
    ANSI.iter()
        .find(|(n, ..)| *n == name)
        .map(|(_, color, _)| *color)
}

/// How many colours the terminal shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorSupport {
    /// 24-bit colour: themes are shown as written.
    TrueColor,
    /// The xterm 256-colour palette.
    Ansi256,
    /// The 16 ANSI colours only.
    Ansi16,
    /// No colour (`NO_COLOR`, `TERM=dumb`): modifiers only.
    None,
}

impl ColorSupport {
    /// Detects support from the process environment.
    pub fn detect() -> Self {
        Self::from_env(|name| std::env::var(name).ok())
    }

    /// Detects support from environment variables read through `var`: `NO_COLOR` set and
    /// non-empty or `TERM=dumb` → none; `COLORTERM=truecolor|24bit` → true colour; `TERM`
    /// containing `256color` → 256; otherwise 16.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Self {
        if var("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            return Self::None;
        }
        let term = var("TERM").unwrap_or_default();
        if term == "dumb" {
            return Self::None;
        }
        let colorterm = var("COLORTERM").unwrap_or_default().to_ascii_lowercase();
        if colorterm == "truecolor" || colorterm == "24bit" {
            return Self::TrueColor;
        }
        if term.contains("256color") {
            return Self::Ansi256;
        }
        Self::Ansi16
    }

    /// `color` as this terminal can show it (`None` for no colour at all).
    pub fn degrade(self, color: Color) -> Option<Color> {
        match self {
            Self::TrueColor => Some(color),
            Self::Ansi256 => Some(to_ansi256(color)),
            Self::Ansi16 => Some(to_ansi16(color)),
            Self::None => None,
        }
    }
}

/// The levels of each channel in the xterm 6×6×6 colour cube.
const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

pub(crate) fn distance((r1, g1, b1): (u8, u8, u8), (r2, g2, b2): (u8, u8, u8)) -> u32 {
    let d = |a: u8, b: u8| (i32::from(a) - i32::from(b)).unsigned_abs();
    d(r1, r2).pow(2) + d(g1, g2).pow(2) + d(b1, b2).pow(2)
}

/// The RGB value a colour is shown in, assuming xterm's palette for the 16 ANSI colours and the
/// 256-colour indices; `None` for [`Color::Reset`] (the terminal's default, unknown here).
pub fn rgb(color: Color) -> Option<(u8, u8, u8)> {
    match color {
        Color::Reset => None,
        Color::Rgb(r, g, b) => Some((r, g, b)),
        Color::Indexed(i) => Some(index_rgb(i)),
        named => ANSI
            .iter()
            .find(|(_, c, _)| *c == named)
            .map(|(.., rgb)| *rgb),
    }
}

/// The 16 ANSI colours, in palette order.
pub(crate) fn ansi16() -> impl Iterator<Item = Color> {
    ANSI.iter().map(|(_, color, _)| *color)
}

/// The RGB value of an xterm palette index.
pub(crate) fn index_rgb(index: u8) -> (u8, u8, u8) {
    match index {
        0..=15 => ANSI[usize::from(index)].2,
        16..=231 => {
            let i = index - 16;
            (
                CUBE[usize::from(i / 36)],
                CUBE[usize::from(i / 6 % 6)],
                CUBE[usize::from(i % 6)],
            )
        }
        _ => {
            let level = 8 + 10 * (index - 232);
            (level, level, level)
        }
    }
}

/// The nearest index in the 256-colour palette's cube and grey ramp (16–255; 0–15 are left out
/// because terminals restyle them).
fn nearest_256(rgb: (u8, u8, u8)) -> u8 {
    let level = |c: u8| {
        (0u8..6)
            .min_by_key(|&i| (i32::from(CUBE[usize::from(i)]) - i32::from(c)).unsigned_abs())
            .unwrap_or(0)
    };
    let cube = 16 + 36 * level(rgb.0) + 6 * level(rgb.1) + level(rgb.2);
    let average = (u32::from(rgb.0) + u32::from(rgb.1) + u32::from(rgb.2)) / 3;
    let grey = 232
        + u8::try_from(average.saturating_sub(3) / 10)
            .unwrap_or(23)
            .min(23);
    if distance(index_rgb(grey), rgb) < distance(index_rgb(cube), rgb) {
        grey
    } else {
        cube
    }
}

pub(crate) fn to_ansi256(color: Color) -> Color {
    match color {
        Color::Rgb(r, g, b) => Color::Indexed(nearest_256((r, g, b))),
        other => other,
    }
}

/// The nearest ANSI colour by meaning rather than by distance (plain RGB distance turns most
/// muted colours grey): greys by lightness, other colours by hue, light variants for light ones.
pub(crate) fn to_ansi16(color: Color) -> Color {
    let (r, g, b) = match color {
        Color::Rgb(r, g, b) => (r, g, b),
        Color::Indexed(i) if i < 16 => return ANSI[usize::from(i)].1,
        Color::Indexed(i) => index_rgb(i),
        other => return other,
    };
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let chroma = max - min;
    let lightness = (max + min) / 2;
    if chroma < 32 || chroma * 5 < max {
        return match lightness {
            0..60 => Color::Black,
            60..150 => Color::DarkGray,
            150..230 => Color::Gray,
            _ => Color::White,
        };
    }
    // Hue in degrees, 0..360.
    let hue = if max == r {
        (60 * (g - b) / chroma).rem_euclid(360)
    } else if max == g {
        60 * (b - r) / chroma + 120
    } else {
        60 * (r - g) / chroma + 240
    };
    let light = lightness > 150 || max > 240;
    let pick = |normal, bright| if light { bright } else { normal };
    match hue {
        20..75 => pick(Color::Yellow, Color::LightYellow),
        75..165 => pick(Color::Green, Color::LightGreen),
        165..200 => pick(Color::Cyan, Color::LightCyan),
        200..260 => pick(Color::Blue, Color::LightBlue),
        260..340 => pick(Color::Magenta, Color::LightMagenta),
        _ => pick(Color::Red, Color::LightRed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hex_names_aliases_and_reset() {
        assert_eq!(parse_color("#ff8000"), Some(Color::Rgb(255, 128, 0)));
        assert_eq!(parse_color("#FF8000"), Some(Color::Rgb(255, 128, 0)));
        assert_eq!(parse_color("light-red"), Some(Color::LightRed));
        assert_eq!(parse_color("bright-red"), Some(Color::LightRed));
        assert_eq!(parse_color("dark-gray"), Some(Color::DarkGray));
        assert_eq!(parse_color("dark_grey"), Some(Color::DarkGray));
        assert_eq!(parse_color("reset"), Some(Color::Reset));
        for bad in ["#ff80", "#gg0000", "rde", "", "#ff80000"] {
            assert_eq!(parse_color(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn detects_support_from_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let detect = |pairs| ColorSupport::from_env(env(pairs));
        assert_eq!(
            detect(&[("COLORTERM", "truecolor"), ("TERM", "xterm-256color")]),
            ColorSupport::TrueColor
        );
        assert_eq!(detect(&[("COLORTERM", "24bit")]), ColorSupport::TrueColor);
        assert_eq!(detect(&[("TERM", "xterm-256color")]), ColorSupport::Ansi256);
        assert_eq!(detect(&[("TERM", "xterm")]), ColorSupport::Ansi16);
        assert_eq!(detect(&[]), ColorSupport::Ansi16);
        assert_eq!(detect(&[("TERM", "dumb")]), ColorSupport::None);
        assert_eq!(
            detect(&[("NO_COLOR", "1"), ("COLORTERM", "truecolor")]),
            ColorSupport::None
        );
        assert_eq!(
            detect(&[("NO_COLOR", ""), ("COLORTERM", "truecolor")]),
            ColorSupport::TrueColor,
            "an empty NO_COLOR does not count"
        );
    }

    #[test]
    fn true_colour_degrades_to_the_nearest_256_and_16_colour() {
        let s256 = ColorSupport::Ansi256;
        let s16 = ColorSupport::Ansi16;
        assert_eq!(
            s256.degrade(Color::Rgb(255, 0, 0)),
            Some(Color::Indexed(196))
        );
        assert_eq!(
            s256.degrade(Color::Rgb(128, 128, 128)),
            Some(Color::Indexed(244))
        );
        assert_eq!(
            s256.degrade(Color::Rgb(0x5f, 0x87, 0xaf)),
            Some(Color::Indexed(67))
        );
        assert_eq!(s256.degrade(Color::Rgb(0, 0, 0)), Some(Color::Indexed(16)));
        assert_eq!(s256.degrade(Color::Red), Some(Color::Red));
        assert_eq!(s16.degrade(Color::Rgb(250, 10, 10)), Some(Color::LightRed));
        assert_eq!(s16.degrade(Color::Rgb(180, 20, 20)), Some(Color::Red));
        assert_eq!(
            s16.degrade(Color::Rgb(120, 120, 120)),
            Some(Color::DarkGray)
        );
        assert_eq!(s16.degrade(Color::Indexed(196)), Some(Color::LightRed));
        assert_eq!(
            s16.degrade(Color::Rgb(0xe0, 0x6c, 0x75)),
            Some(Color::LightRed)
        );
        assert_eq!(
            s16.degrade(Color::Rgb(0x61, 0xaf, 0xef)),
            Some(Color::LightBlue)
        );
        assert_eq!(s16.degrade(Color::Rgb(0x2d, 0x62, 0xd6)), Some(Color::Blue));
        assert_eq!(
            s16.degrade(Color::Rgb(0x98, 0xc3, 0x79)),
            Some(Color::LightGreen)
        );
        assert_eq!(
            s16.degrade(Color::Rgb(0x3f, 0x8a, 0x32)),
            Some(Color::Green)
        );
        assert_eq!(s16.degrade(Color::Rgb(0x56, 0xb6, 0xc2)), Some(Color::Cyan));
        assert_eq!(
            s16.degrade(Color::Rgb(0xc6, 0x78, 0xdd)),
            Some(Color::LightMagenta)
        );
        assert_eq!(
            s16.degrade(Color::Rgb(0xd1, 0x9a, 0x66)),
            Some(Color::LightYellow)
        );
        assert_eq!(
            s16.degrade(Color::Rgb(0x1e, 0x21, 0x27)),
            Some(Color::Black)
        );
        assert_eq!(
            s16.degrade(Color::Rgb(0x7f, 0x84, 0x8e)),
            Some(Color::DarkGray)
        );
        assert_eq!(s16.degrade(Color::Rgb(0xd7, 0xda, 0xe0)), Some(Color::Gray));
        assert_eq!(
            s16.degrade(Color::Rgb(0xfa, 0xfa, 0xfa)),
            Some(Color::White)
        );
        for (_, color, rgb) in ANSI {
            assert_eq!(
                s16.degrade(Color::Rgb(rgb.0, rgb.1, rgb.2)),
                Some(*color),
                "{color:?}"
            );
        }
        assert_eq!(s16.degrade(Color::Indexed(4)), Some(Color::Blue));
        assert_eq!(s16.degrade(Color::Reset), Some(Color::Reset));
        assert_eq!(
            ColorSupport::TrueColor.degrade(Color::Rgb(1, 2, 3)),
            Some(Color::Rgb(1, 2, 3))
        );
        assert_eq!(ColorSupport::None.degrade(Color::Red), None);
    }

    #[test]
    fn index_colours_round_trip_through_their_rgb() {
        for index in 16..=255u8 {
            assert_eq!(nearest_256(index_rgb(index)), index, "{index}");
        }
    }
}
