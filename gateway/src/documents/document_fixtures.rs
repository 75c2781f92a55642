//! Files for the document tests: PDFs written with lopdf (text pages in Helvetica, and a scan of
//! one JPEG page) and zips (chat exports). Test-only: compiled into the library's unit tests
//! (`documents::document_fixtures`) and into the API tests (`tests/api/main.rs` includes this file
//! by path), so both write the same files.
#![allow(dead_code)]

use std::io::{Cursor, Write};

use lopdf::{
    Document, Object, Stream,
    content::{Content, Operation},
    dictionary,
};

/// A PDF whose pages show `lines` in Helvetica, one under the other.
pub fn text_pdf(pages: &[&[&str]]) -> Vec<u8> {
    let mut document = Document::with_version("1.5");
    let pages_id = document.new_object_id();
    let font_id = document.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let resources_id =
        document.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut kids: Vec<Object> = Vec::new();
    for lines in pages {
        let mut operations = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 14.into()]),
            Operation::new("TL", vec![20.into()]),
            Operation::new("Td", vec![50.into(), 780.into()]),
        ];
        for line in *lines {
            operations.push(Operation::new("Tj", vec![Object::string_literal(*line)]));
            operations.push(Operation::new("T*", vec![]));
        }
        operations.push(Operation::new("ET", vec![]));
        let content = Content { operations }.encode().expect("content");
        let content_id = document.add_object(Stream::new(dictionary! {}, content));
        kids.push(
            document
                .add_object(dictionary! { "Type" => "Page", "Parent" => pages_id, "Contents" => content_id })
                .into(),
        );
    }
    finish(document, pages_id, kids, resources_id, [595, 842])
}

/// A scan: one page that is only the JPEG `jpeg` (`width`×`height` pixels) at 300 dpi.
pub fn scanned_pdf(jpeg: &[u8], width: i64, height: i64) -> Vec<u8> {
    let mut document = Document::with_version("1.5");
    let pages_id = document.new_object_id();
    let image_id = document.add_object(Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => width, "Height" => height,
            "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8, "Filter" => "DCTDecode",
        },
        jpeg.to_vec(),
    ));
    let resources_id =
        document.add_object(dictionary! { "XObject" => dictionary! { "Im1" => image_id } });
    let (w, h) = (width * 72 / 300, height * 72 / 300);
    let drawing = format!("q {w} 0 0 {h} 0 0 cm /Im1 Do Q");
    let content_id = document.add_object(Stream::new(dictionary! {}, drawing.into_bytes()));
    let page_id = document.add_object(
        dictionary! { "Type" => "Page", "Parent" => pages_id, "Contents" => content_id },
    );
    finish(
        document,
        pages_id,
        vec![page_id.into()],
        resources_id,
        [w, h],
    )
}

fn finish(
    mut document: Document,
    pages_id: (u32, u16),
    kids: Vec<Object>,
    resources: (u32, u16),
    size: [i64; 2],
) -> Vec<u8> {
    let count = kids.len() as i64;
    document.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => count, "Resources" => resources,
            "MediaBox" => vec![0.into(), 0.into(), size[0].into(), size[1].into()],
        }),
    );
    let catalog_id = document.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    document.trailer.set("Root", catalog_id);
    let mut bytes = Vec::new();
    document.save_to(&mut bytes).expect("pdf bytes");
    bytes
}

/// A zip of `entries` (name, bytes), deflated.
pub fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        writer.start_file(*name, options).expect("entry");
        writer.write_all(bytes).expect("bytes");
    }
    writer.finish().expect("zip").into_inner()
}
