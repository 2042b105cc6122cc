//! A small page layout for A4 portrait: lines of text flowing down the page, rows of
//! wrapped cells, a new page when the next row does not fit, and a footer on every page.

use lopdf::content::{Content, Operation};
use lopdf::{dictionary, Document, Object, Stream, StringFormat};

use crate::PrintError;

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;
const FOOTER: f32 = 40.0;
/// The width text may take.
pub const WIDTH: f32 = PAGE_W - 2.0 * MARGIN;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Font {
    Regular,
    Bold,
}

impl Font {
    fn resource(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
        }
    }
}

/// Width of `c` in thousandths of the font size: Helvetica's metrics in broad classes,
/// close enough to wrap lines without running over the margin.
fn advance(c: char, font: Font) -> f32 {
    let base = match c {
        'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | 'I' => 278.0,
        ' ' | 'f' | 't' | 'r' | '(' | ')' | '[' | ']' | '/' | '-' => 333.0,
        'm' | 'w' | 'M' | 'W' | '@' | '%' | 'Æ' | '€' | '—' => 889.0,
        'A'..='Z' | 'Ä' | 'Ö' | 'Ü' => 722.0,
        '0'..='9' => 556.0,
        _ => 556.0,
    };
    if font == Font::Bold {
        base * 1.06
    } else {
        base
    }
}

fn text_width(s: &str, font: Font, size: f32) -> f32 {
    s.chars().map(|c| advance(c, font)).sum::<f32>() * size / 1000.0
}

/// `s` broken into lines no wider than `width` (a word longer than a line is cut).
fn wrap(s: &str, font: Font, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in s.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if text_width(&candidate, font, size) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A word wider than the column: cut it where it must.
            let mut piece = String::new();
            for c in word.chars() {
                piece.push(c);
                if text_width(&piece, font, size) > width {
                    piece.pop();
                    lines.push(std::mem::take(&mut piece));
                    piece.push(c);
                }
            }
            line = piece;
        }
        lines.push(line);
    }
    lines
}

/// A PDF string in WinAnsiEncoding (Windows-1252); what it cannot hold becomes `?`.
fn win_ansi(s: &str) -> Object {
    let mut bytes = Vec::with_capacity(s.len());
    for c in s.chars() {
        let mut buf = [0u8; 4];
        let (encoded, _, unmappable) = encoding_rs::WINDOWS_1252.encode(c.encode_utf8(&mut buf));
        if unmappable || encoded.len() != 1 || c.is_control() {
            bytes.push(b'?');
        } else {
            bytes.push(encoded[0]);
        }
    }
    Object::String(bytes, StringFormat::Literal)
}

pub struct Cell<'a> {
    text: &'a str,
    width: f32,
    font: Font,
}

impl<'a> Cell<'a> {
    pub fn new(text: &'a str, width: f32, font: Font) -> Cell<'a> {
        Cell { text, width, font }
    }
}

/// The pages being laid out, each a list of drawing operations.
pub struct Doc {
    pages: Vec<Vec<Operation>>,
    /// Distance of the next line's top from the page's top.
    y: f32,
}

impl Doc {
    pub fn new() -> Doc {
        Doc {
            pages: vec![Vec::new()],
            y: MARGIN,
        }
    }

    pub fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    fn ensure_room(&mut self, height: f32) {
        if self.y + height > PAGE_H - MARGIN - FOOTER && self.y > MARGIN {
            self.new_page();
        }
    }

    fn ops(&mut self) -> &mut Vec<Operation> {
        self.pages.last_mut().expect("a page")
    }

    fn put(&mut self, x: f32, top: f32, s: &str, font: Font, size: f32) {
        let baseline = PAGE_H - top - size;
        let ops = self.ops();
        ops.push(Operation::new("BT", vec![]));
        ops.push(Operation::new(
            "Tf",
            vec![font.resource().into(), size.into()],
        ));
        ops.push(Operation::new("Td", vec![x.into(), baseline.into()]));
        ops.push(Operation::new("Tj", vec![win_ansi(s)]));
        ops.push(Operation::new("ET", vec![]));
    }

    /// A paragraph across the full width.
    pub fn text(&mut self, s: &str, font: Font, size: f32) {
        for line in wrap(s, font, size, WIDTH) {
            let leading = size * 1.3;
            self.ensure_room(leading);
            let y = self.y;
            self.put(MARGIN, y, &line, font, size);
            self.y += leading;
        }
    }

    pub fn gap(&mut self, points: f32) {
        self.y += points;
    }

    /// A row of cells side by side, each wrapped in its width; the row moves to the next
    /// page whole.
    pub fn row(&mut self, cells: &[Cell], size: f32) {
        let leading = size * 1.3;
        let wrapped: Vec<Vec<String>> = cells
            .iter()
            .map(|c| wrap(c.text, c.font, size, c.width - 6.0))
            .collect();
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
        self.ensure_room(leading * lines as f32 + 3.0);
        let top = self.y;
        let mut x = MARGIN;
        for (cell, cell_lines) in cells.iter().zip(&wrapped) {
            for (i, line) in cell_lines.iter().enumerate() {
                self.put(x, top + leading * i as f32, line, cell.font, size);
            }
            x += cell.width;
        }
        self.y += leading * lines as f32 + 3.0;
    }

    /// A thin line across the width.
    pub fn rule(&mut self) {
        let y = PAGE_H - self.y;
        let ops = self.ops();
        ops.push(Operation::new("w", vec![0.5.into()]));
        ops.push(Operation::new("m", vec![MARGIN.into(), y.into()]));
        ops.push(Operation::new(
            "l",
            vec![(PAGE_W - MARGIN).into(), y.into()],
        ));
        ops.push(Operation::new("S", vec![]));
        self.y += 4.0;
    }

    /// Adds the footer (`note` and "page n of total") to every page and writes the PDF.
    pub fn finish(mut self, note: &str, page_label: &str) -> Result<Vec<u8>, PrintError> {
        let total = self.pages.len();
        for n in 0..total {
            let label = page_label
                .replace("{n}", &(n + 1).to_string())
                .replace("{total}", &total.to_string());
            let footer_top = PAGE_H - MARGIN - 10.0;
            let label_x = PAGE_W - MARGIN - text_width(&label, Font::Regular, 8.0);
            let mut page = std::mem::take(&mut self.pages[n]);
            let mut footer = Doc {
                pages: vec![Vec::new()],
                y: 0.0,
            };
            footer.put(MARGIN, footer_top, note, Font::Regular, 8.0);
            footer.put(label_x, footer_top, &label, Font::Regular, 8.0);
            page.append(&mut footer.pages[0]);
            self.pages[n] = page;
        }

        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let regular = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
            "Encoding" => "WinAnsiEncoding",
        });
        let bold = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica-Bold",
            "Encoding" => "WinAnsiEncoding",
        });
        let resources = doc.add_object(dictionary! {
            "Font" => dictionary! { "F1" => regular, "F2" => bold },
        });
        let mut kids = Vec::with_capacity(total);
        for operations in self.pages {
            let content = Content { operations }
                .encode()
                .map_err(|e| PrintError(e.to_string()))?;
            let stream = doc.add_object(Stream::new(dictionary! {}, content));
            let page = doc.add_object(dictionary! {
                "Type" => "Page",
                "Parent" => pages_id,
                "Contents" => stream,
                "Resources" => resources,
                "MediaBox" => vec![0.into(), 0.into(), PAGE_W.into(), PAGE_H.into()],
            });
            kids.push(Object::Reference(page));
        }
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages",
                "Kids" => kids,
                "Count" => total as i64,
            }),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        doc.save_to(&mut out)
            .map_err(|e| PrintError(e.to_string()))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wrap_within_their_width_and_long_words_are_cut() {
        let lines = wrap(
            "Zustimmung des Nachbarn zum Bauvorhaben",
            Font::Regular,
            10.0,
            100.0,
        );
        assert!(lines.len() > 1);
        for line in &lines {
            assert!(text_width(line, Font::Regular, 10.0) <= 100.0, "{line}");
        }
        let cut = wrap(&"x".repeat(200), Font::Bold, 10.0, 50.0);
        assert!(cut.len() > 5 && cut.iter().all(|l| !l.is_empty()));
        assert_eq!(wrap("", Font::Regular, 10.0, 50.0), vec![String::new()]);
    }

    #[test]
    fn text_is_encoded_for_win_ansi() {
        let Object::String(bytes, _) = win_ansi("Größe – 5 € \u{4e2d}\u{0}") else {
            panic!("not a string");
        };
        assert_eq!(bytes, b"Gr\xf6\xdfe \x96 5 \x80 ??");
    }
}
