//! `harness report <file> --plot out.svg`: three panels drawn with
//! plotters' SVG backend (no bitmap backend and no font files: text is
//! written as SVG `<text>` elements for the viewer to render).
//! 1. accepted messages per second and failed requests per second;
//! 2. the ingest latency p50 / p95 / p99 of each second's 2xx answers;
//! 3. the latency histogram, on a log axis in ms.

use crate::report::LoadReport;
use crate::series::SecondPoint;
use plotters::prelude::*;
use std::path::Path;

const SIZE: (u32, u32) = (1000, 1000);
const FONT: &str = "sans-serif";

/// Draws the plot into `path`; the error is plotters' own, as text.
pub fn draw(report: &LoadReport, path: &Path) -> Result<(), String> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let title = format!(
        "harness load {}: {} (exit {}), {} requests, {} failed",
        report.run_id,
        crate::render::status_name(report.outcome.status),
        report.outcome.exit_code,
        report.requests.sent,
        report.requests.sent - report.requests.ok
    );
    let root = root.titled(&title, (FONT, 20)).map_err(|e| e.to_string())?;
    let panels = root.split_evenly((3, 1));
    rates(&panels[0], &report.series).map_err(|e| e.to_string())?;
    latencies(&panels[1], &report.series).map_err(|e| e.to_string())?;
    histogram(&panels[2], report).map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

/// Reads one percentile off a point.
type Pick = fn(&SecondPoint) -> Option<f64>;
type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;
type DrawResult<'a> =
    Result<(), DrawingAreaErrorKind<<SVGBackend<'a> as DrawingBackend>::ErrorType>>;

fn seconds_axis(series: &[SecondPoint]) -> f64 {
    series
        .iter()
        .map(|p| p.second as f64 + p.span_seconds)
        .fold(1.0, f64::max)
}

/// A point per second at the middle of the span it covers.
fn at(p: &SecondPoint) -> f64 {
    p.second as f64 + p.span_seconds / 2.0
}

fn rates<'a>(area: &Area<'a>, series: &[SecondPoint]) -> DrawResult<'a> {
    let failed = |p: &SecondPoint| p.failed_requests as f64 / p.span_seconds.max(0.001);
    let top = series
        .iter()
        .map(|p| p.accepted_messages_per_second.max(failed(p)))
        .fold(1.0, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption(
            "per second: accepted messages (2xx) and failed requests",
            (FONT, 16),
        )
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..seconds_axis(series), 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("seconds since start")
        .y_desc("per second")
        .label_style((FONT, 12))
        .draw()?;
    chart
        .draw_series(LineSeries::new(
            series
                .iter()
                .map(|p| (at(p), p.accepted_messages_per_second)),
            BLUE.stroke_width(2),
        ))?
        .label("accepted msgs/s")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(
            series.iter().map(|p| (at(p), failed(p))),
            RED.stroke_width(2),
        ))?
        .label("failed requests/s (any non-2xx or transport error)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
    chart
        .configure_series_labels()
        .label_font((FONT, 12))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
}

fn latencies<'a>(area: &Area<'a>, series: &[SecondPoint]) -> DrawResult<'a> {
    let top = series.iter().filter_map(|p| p.p99_ms).fold(1.0, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption(
            "ingest latency of each second's 2xx answers (ms)",
            (FONT, 16),
        )
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..seconds_axis(series), 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("seconds since start")
        .y_desc("ms")
        .label_style((FONT, 12))
        .draw()?;
    let lines: [(&str, Pick, RGBColor); 3] = [
        ("p50", |p| p.p50_ms, GREEN),
        ("p95", |p| p.p95_ms, MAGENTA),
        ("p99", |p| p.p99_ms, RED),
    ];
    for (name, value, colour) in lines {
        chart
            .draw_series(LineSeries::new(
                series.iter().filter_map(|p| value(p).map(|v| (at(p), v))),
                colour.stroke_width(2),
            ))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .label_font((FONT, 12))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
}

fn histogram<'a>(area: &Area<'a>, report: &LoadReport) -> DrawResult<'a> {
    let buckets = report
        .latency_histogram
        .as_ref()
        .map(|h| h.buckets.as_slice())
        .unwrap_or_default();
    // Bucket i spans (previous le, le]; the first one starts √2 below its own le.
    let spans: Vec<(f64, f64, u64)> = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let low = if i == 0 {
                b.le_ms / std::f64::consts::SQRT_2
            } else {
                buckets[i - 1].le_ms
            };
            (low.max(0.001), b.le_ms.max(0.002), b.count)
        })
        .collect();
    let low = spans.first().map_or(0.1, |s| s.0);
    let high = spans.last().map_or(10.0, |s| s.1).max(low * 2.0);
    let top = spans.iter().map(|s| s.2).max().unwrap_or(1).max(1) as f64 * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption(
            "ingest latency histogram, 2xx answers (HDR, log buckets)",
            (FONT, 16),
        )
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .build_cartesian_2d((low..high).log_scale(), 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("latency (ms, log scale)")
        .y_desc("requests")
        .label_style((FONT, 12))
        .draw()?;
    chart.draw_series(spans.iter().map(|(low, high, count)| {
        Rectangle::new(
            [(*low, 0.0), (*high, *count as f64)],
            BLUE.mix(0.6).filled(),
        )
    }))?;
    if spans.is_empty() {
        area.draw(&Text::new(
            "no 2xx answer: nothing to draw",
            (SIZE.0 as i32 / 2 - 100, 140),
            (FONT, 14),
        ))?;
    }
    Ok(())
}
