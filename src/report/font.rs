//! Fonts for charts: DejaVu Sans compiled into the binary and registered with plotters'
//! `ab_glyph` backend, so PNG charts render text on a machine with no system font library.
//! (DejaVu fonts: Bitstream Vera licence; notice in THIRD-PARTY-NOTICES.md.)

use std::sync::OnceLock;

/// The family name charts must use.
pub const FAMILY: &str = "sans-serif";

/// Register the embedded fonts once per process (idempotent, thread-safe).
pub fn ensure_registered() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        use plotters::style::{FontStyle, register_font};
        register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular())
            .map_err(|_| "embedded DejaVu Sans regular is not a valid font".to_string())?;
        register_font(FAMILY, FontStyle::Bold, dejavu::sans::bold())
            .map_err(|_| "embedded DejaVu Sans bold is not a valid font".to_string())?;
        Ok(())
    })
    .clone()
}

/// Encode an RGB8 buffer (from `BitMapBackend::with_buffer`) as PNG bytes.
pub fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let (k, v) = crate::outputs::PNG_MARK;
        enc.add_text_chunk(k.into(), v.into())
            .map_err(|e| e.to_string())?;
        let mut w = enc.write_header().map_err(|e| e.to_string())?;
        w.write_image_data(rgb).map_err(|e| e.to_string())?;
    }
    Ok(bytes)
}
