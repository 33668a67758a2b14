//! Colours, line styles and fonts shared by every panel.
//!
//! A run (or sweep) owns a colour; an op type owns a line style and a shade
//! of that colour, so "a.json get" and "b.json get" differ by colour and
//! "a.json get" and "a.json set" differ by dash pattern and shade.

use plotters::style::{RGBColor, ShapeStyle};

/// Tableau 10: distinct, colour-blind friendly, readable on white.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Font family of every text element; the browser picks the face.
pub(crate) const FONT: &str = "sans-serif";
/// Panel titles, in plotters font units (the SVG gets `size / 1.24` px).
pub(crate) const TITLE_SIZE: u32 = 22;
/// Axis descriptions ("time (s)").
pub(crate) const DESC_SIZE: u32 = 17;
/// Tick labels and legend entries.
pub(crate) const LABEL_SIZE: u32 = 15;

/// The colour of the `index`-th run or sweep (cycles after ten).
pub(crate) fn series_colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// How one line is stroked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LineLook {
    /// Stroke colour.
    pub colour: RGBColor,
    /// Stroke width in pixels.
    pub width_px: u32,
    /// `(dash_px, gap_px)`, or `None` for a solid line.
    pub dash_px: Option<(i32, i32)>,
}

impl LineLook {
    /// A solid line of the series colour.
    pub(crate) fn solid(colour: RGBColor) -> Self {
        LineLook {
            colour,
            width_px: 2,
            dash_px: None,
        }
    }

    /// The look of `op`'s spectrum line in a run drawn with `colour`:
    /// "total" solid, "get" darker and dashed, "set" lighter and dotted;
    /// anything else thin and solid.
    pub(crate) fn for_op(op: &str, colour: RGBColor) -> Self {
        match op {
            "total" => LineLook::solid(colour),
            "get" => LineLook {
                colour: mix(colour, RGBColor(0, 0, 0), 0.3),
                width_px: 2,
                dash_px: Some((9, 5)),
            },
            "set" => LineLook {
                colour: mix(colour, RGBColor(255, 255, 255), 0.35),
                width_px: 2,
                dash_px: Some((3, 4)),
            },
            _ => LineLook {
                colour,
                width_px: 1,
                dash_px: None,
            },
        }
    }

    /// The "linear" reference of a sweep drawn with `colour`: lighter, dashed.
    pub(crate) fn reference(colour: RGBColor) -> Self {
        LineLook {
            colour: mix(colour, RGBColor(255, 255, 255), 0.3),
            width_px: 2,
            dash_px: Some((8, 6)),
        }
    }

    /// The plotters stroke style.
    pub(crate) fn shape(&self) -> ShapeStyle {
        ShapeStyle {
            color: self.colour.into(),
            filled: false,
            stroke_width: self.width_px,
        }
    }
}

/// `from` moved `amount` (0..=1) of the way towards `to`.
fn mix(from: RGBColor, to: RGBColor, amount: f64) -> RGBColor {
    let blend = |a: u8, b: u8| {
        let v = f64::from(a) + (f64::from(b) - f64::from(a)) * amount;
        // In 0..=255 because amount is in 0..=1.
        v.round().clamp(0.0, 255.0) as u8
    };
    RGBColor(
        blend(from.0, to.0),
        blend(from.1, to.1),
        blend(from.2, to.2),
    )
}

/// `#RRGGBB` as the SVG backend writes it (tests compare strokes).
#[cfg(test)]
pub(crate) fn svg_hex(colour: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", colour.0, colour.1, colour.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_looks_differ_and_keep_the_run_hue() {
        let base = series_colour(0);
        let total = LineLook::for_op("total", base);
        let get = LineLook::for_op("get", base);
        let set = LineLook::for_op("set", base);
        assert_eq!(total.colour, base);
        assert_ne!(get.colour, set.colour);
        assert_ne!(get.dash_px, set.dash_px);
        assert_eq!(total.dash_px, None);
    }

    #[test]
    fn palette_cycles() {
        assert_eq!(series_colour(0), series_colour(10));
        assert_ne!(series_colour(0), series_colour(1));
        assert_eq!(svg_hex(series_colour(0)), "#1F77B4");
    }
}
