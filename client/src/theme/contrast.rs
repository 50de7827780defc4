//! Readability: the WCAG 2.x contrast ratio of two colours, and fitting a colour to a terminal's
//! palette without losing the contrast it had against the background it is drawn on.
//!
//! Colours are measured as xterm shows them ([`rgb`]): the 16 ANSI colours take xterm's standard
//! RGB values, the 256-colour indices their cube and grey-ramp values, and the terminal's own
//! default colours (`reset`) are assumed to be xterm's light grey on black ([`DEFAULT_FG`],
//! [`DEFAULT_BG`]). Real terminals restyle the 16 colours, so this is a yardstick, not a promise.

use ratatui::style::Color;

use super::color::{ColorSupport, ansi16, distance, rgb};

/// The least contrast for text (WCAG 2.x AA for normal text).
pub const TEXT: f64 = 4.5;

/// The least contrast for muted text and borders (WCAG 2.x AA for large text and UI components).
pub const MUTED: f64 = 3.0;

/// The terminal's default foreground, assumed where a theme leaves it to the terminal.
pub const DEFAULT_FG: (u8, u8, u8) = (229, 229, 229);

/// The terminal's default background, assumed where a theme leaves it to the terminal.
pub const DEFAULT_BG: (u8, u8, u8) = (0, 0, 0);

const BLACK: (u8, u8, u8) = (0, 0, 0);
const WHITE: (u8, u8, u8) = (255, 255, 255);

/// The relative luminance of an sRGB colour, 0 (black) to 1 (white), as WCAG 2.x defines it.
pub fn luminance((r, g, b): (u8, u8, u8)) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.040_45 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
}

/// The WCAG 2.x contrast ratio of two colours, 1 (none) to 21 (black on white).
pub fn ratio(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// `fg` moved toward black or white (whichever contrasts more with `bg`) just far enough to have
/// at least `min` contrast with `bg`; `fg` itself when it already has.
pub fn ensure(fg: (u8, u8, u8), bg: (u8, u8, u8), min: f64) -> (u8, u8, u8) {
    if ratio(fg, bg) >= min {
        return fg;
    }
    let target = if ratio(BLACK, bg) > ratio(WHITE, bg) {
        BLACK
    } else {
        WHITE
    };
    const STEPS: u16 = 32;
    for step in 1..=STEPS {
        let mix = |from: u8, to: u8| {
            let (from, to) = (u16::from(from), u16::from(to));
            let value = (from * (STEPS - step) + to * step) / STEPS;
            u8::try_from(value).unwrap_or(u8::MAX)
        };
        let mixed = (
            mix(fg.0, target.0),
            mix(fg.1, target.1),
            mix(fg.2, target.2),
        );
        if ratio(mixed, bg) >= min {
            return mixed;
        }
    }
    target
}

/// `fg` as a terminal with `support` shows it, drawn on `bg` (as shown). A colour the palette
/// has to reduce keeps at least `min` contrast with `bg` where the palette allows: the usual
/// reduction ([`ColorSupport::degrade`]) when it does, else the nearest palette entry that does,
/// else the entry with the most contrast. Colours the terminal shows as they are (ANSI names,
/// `reset`, anything at true colour) are returned unchanged. `None` without colour.
pub fn fit(fg: Color, bg: (u8, u8, u8), min: f64, support: ColorSupport) -> Option<Color> {
    let first = support.degrade(fg)?;
    let Some(wanted) = rgb(fg) else {
        return Some(first);
    };
    let contrast = |c: Color| rgb(c).map_or(0.0, |shown| ratio(shown, bg));
    if first == fg || contrast(first) >= min {
        return Some(first);
    }
    let candidates: Vec<Color> = match support {
        ColorSupport::Ansi256 => (16..=255).map(Color::Indexed).collect(),
        ColorSupport::Ansi16 => ansi16().collect(),
        ColorSupport::TrueColor | ColorSupport::None => return Some(first),
    };
    let nearest = candidates
        .iter()
        .filter(|c| contrast(**c) >= min)
        .min_by_key(|c| rgb(**c).map_or(u32::MAX, |shown| distance(shown, wanted)))
        .copied();
    let strongest = || {
        candidates
            .iter()
            .copied()
            .max_by(|a, b| contrast(*a).total_cmp(&contrast(*b)))
    };
    nearest.or_else(strongest).or(Some(first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_match_the_wcag_definition() {
        assert!((ratio(BLACK, WHITE) - 21.0).abs() < 1e-9);
        assert!((ratio(WHITE, WHITE) - 1.0).abs() < 1e-9);
        assert!((ratio((0x77, 0x77, 0x77), WHITE) - 4.48).abs() < 0.01);
        assert!((luminance((255, 0, 0)) - 0.2126).abs() < 1e-9);
    }

    #[test]
    fn ensure_moves_only_as_far_as_needed() {
        let bg = (0xfa, 0xfa, 0xfa);
        assert_eq!(ensure((0x38, 0x3a, 0x42), bg, TEXT), (0x38, 0x3a, 0x42));
        let light = ensure((0xc0, 0xc5, 0xce), bg, TEXT);
        assert!(ratio(light, bg) >= TEXT);
        assert!(ratio(light, bg) < 6.0, "{light:?} went too far");
        let dark = ensure((0x30, 0x30, 0x30), (0x20, 0x20, 0x20), TEXT);
        assert!(ratio(dark, (0x20, 0x20, 0x20)) >= TEXT, "{dark:?}");
    }

    #[test]
    fn fit_keeps_contrast_when_reducing() {
        // #61afef becomes light blue on 16 colours, which is just under 4.5:1 on black.
        let blue = Color::Rgb(0x61, 0xaf, 0xef);
        assert_eq!(ColorSupport::Ansi16.degrade(blue), Some(Color::LightBlue));
        let fitted = fit(blue, BLACK, TEXT, ColorSupport::Ansi16);
        let shown = fitted.and_then(rgb).unwrap_or(BLACK);
        assert!(ratio(shown, BLACK) >= TEXT, "{fitted:?}");
        assert_eq!(
            fitted,
            Some(Color::Cyan),
            "the nearest one that is readable"
        );
        // When the usual reduction is readable it is kept.
        assert_eq!(
            fit(blue, WHITE, TEXT, ColorSupport::Ansi16),
            Some(Color::LightBlue)
        );
        // Named colours and true colour are never changed; no colour is no colour.
        assert_eq!(
            fit(Color::Yellow, WHITE, TEXT, ColorSupport::Ansi16),
            Some(Color::Yellow)
        );
        assert_eq!(
            fit(Color::Rgb(1, 1, 1), BLACK, TEXT, ColorSupport::TrueColor),
            Some(Color::Rgb(1, 1, 1))
        );
        assert_eq!(fit(blue, BLACK, TEXT, ColorSupport::None), None);
        let grey = fit(
            Color::Rgb(0x60, 0x60, 0x60),
            (0x1c, 0x1c, 0x1c),
            TEXT,
            ColorSupport::Ansi256,
        );
        let shown = grey.and_then(rgb).unwrap_or(BLACK);
        assert!(ratio(shown, (0x1c, 0x1c, 0x1c)) >= TEXT, "{grey:?}");
    }
}
