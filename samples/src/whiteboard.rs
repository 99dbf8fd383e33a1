//! The whiteboard sample: a canvas everyone paints on together (the Socket.IO
//! whiteboard demo, as a hub). A page sends its strokes as it draws them; the
//! hub passes each one on to the other pages and keeps the drawing so far, so
//! that a page opened later starts with it.
//!
//! With a Redis backplane (`--redis`), strokes reach the pages of every
//! process, but each process remembers only the strokes drawn through it.

use std::collections::VecDeque;

use hub_core::{Hub, HubBuilder, HubCtx, HubError, HubResult, hub, hub_client};
use hub_transport::ServerBuilder;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::BrowserClient;
use crate::browser_client::{HTML, JAVASCRIPT};

/// The path the whiteboard hub is served at.
pub const PATH: &str = "/hubs/whiteboard";

/// The most strokes the hub remembers; older ones are forgotten.
pub const MAX_STROKES: usize = 10_000;

/// The most points the hub remembers, over all strokes; older strokes are forgotten.
pub const MAX_POINTS: usize = 100_000;

/// The most points one stroke may have (pages send long lines in pieces).
pub const MAX_STROKE_POINTS: usize = 1_000;

/// A point on the canvas, in canvas pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Pixels from the left.
    pub x: f64,
    /// Pixels from the top.
    pub y: f64,
}

/// A line through `points`: `{"points": [{"x": 1, "y": 2}, ...], "color": "#1e88e5", "width": 4}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stroke {
    /// The points the line goes through, in order; one point is a dot.
    pub points: Vec<Point>,
    /// `#rgb` or `#rrggbb`.
    pub color: String,
    /// The line's width in pixels, more than 0 and at most 100.
    pub width: f64,
}

impl Stroke {
    /// Checks that the stroke is one a page can draw, with a message for the client.
    pub fn check(&self) -> HubResult<()> {
        if self.points.is_empty() || self.points.len() > MAX_STROKE_POINTS {
            return Err(HubError::new(format!(
                "A stroke has 1 to {MAX_STROKE_POINTS} points."
            )));
        }
        if !self
            .points
            .iter()
            .all(|p| p.x.is_finite() && p.y.is_finite())
        {
            return Err(HubError::new("Coordinates must be finite numbers."));
        }
        if !(self.width > 0.0 && self.width <= 100.0) {
            return Err(HubError::new(
                "The width must be more than 0 and at most 100.",
            ));
        }
        let hex = self.color.strip_prefix('#').unwrap_or("");
        if !matches!(hex.len(), 3 | 6) || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(HubError::new("The color must be #rgb or #rrggbb."));
        }
        Ok(())
    }
}

/// The strokes drawn so far, oldest first, bounded by [`MAX_STROKES`] and [`MAX_POINTS`].
#[derive(Debug, Default)]
pub struct Drawing {
    strokes: VecDeque<Stroke>,
    points: usize,
}

impl Drawing {
    /// Adds a stroke, forgetting the oldest ones beyond the bounds.
    pub fn push(&mut self, stroke: Stroke) {
        self.points += stroke.points.len();
        self.strokes.push_back(stroke);
        while self.strokes.len() > MAX_STROKES || self.points > MAX_POINTS {
            let oldest = self
                .strokes
                .pop_front()
                .expect("over a bound means not empty");
            self.points -= oldest.points.len();
        }
    }

    /// Forgets every stroke.
    pub fn clear(&mut self) {
        self.strokes.clear();
        self.points = 0;
    }

    /// The strokes, oldest first.
    pub fn strokes(&self) -> &VecDeque<Stroke> {
        &self.strokes
    }

    /// How many points the strokes have in all.
    pub fn points(&self) -> usize {
        self.points
    }
}

/// What the whiteboard calls on its pages.
#[hub_client]
pub trait WhiteboardClient {
    /// The drawing so far, sent to a page when it connects: it replaces the canvas.
    async fn drawing(&self, strokes: &VecDeque<Stroke>);
    /// A stroke another page drew.
    async fn drawn(&self, stroke: &Stroke);
    /// Someone cleared the canvas.
    async fn cleared(&self);
}

/// The whiteboard hub's methods.
#[hub(client = WhiteboardClient)]
pub trait Whiteboard {
    /// Draws `stroke` on every other page (the caller has drawn it already).
    async fn draw(&self, ctx: &HubCtx, stroke: Stroke) -> HubResult<()>;
    /// Clears every page's canvas and the drawing so far.
    async fn clear(&self, ctx: &HubCtx) -> HubResult<()>;
}

/// The whiteboard hub.
///
/// Each method sends while holding the drawing's lock, so that every page sees
/// the same order: a page that connects gets either a stroke in its
/// `Drawing` or that stroke's `Drawn` after it, never `Drawn` then a `Drawing`
/// without it.
#[derive(Debug, Default)]
pub struct WhiteboardHub {
    drawing: Mutex<Drawing>,
}

impl Whiteboard for WhiteboardHub {
    async fn on_connected(&self, ctx: &HubCtx) -> HubResult<()> {
        let drawing = self.drawing.lock().await;
        ctx.clients().caller().drawing(drawing.strokes()).await
    }

    async fn draw(&self, ctx: &HubCtx, stroke: Stroke) -> HubResult<()> {
        stroke.check()?;
        let mut drawing = self.drawing.lock().await;
        let sent = ctx.clients().others().drawn(&stroke).await;
        drawing.push(stroke);
        sent
    }

    async fn clear(&self, ctx: &HubCtx) -> HubResult<()> {
        let mut drawing = self.drawing.lock().await;
        drawing.clear();
        ctx.clients().all().cleared().await
    }
}

/// The whiteboard hub.
pub fn hub() -> Hub {
    builder().build()
}

/// The builder of [`hub()`], to set options or a backplane first.
pub fn builder() -> HubBuilder {
    WhiteboardHub::default().hub_builder()
}

/// The whiteboard server: the hub at [`PATH`], the page (built in) at `/`,
/// the official client at `/lib/signalr.min.js` and its MessagePack protocol
/// at `/lib/signalr-protocol-msgpack.min.js`.
pub fn server(hub: Hub, client: &BrowserClient) -> ServerBuilder {
    hub_transport::Server::builder()
        .hub(PATH, hub)
        .static_file("/lib/signalr.min.js", &client.signalr)
        .static_file("/lib/signalr-protocol-msgpack.min.js", &client.msgpack)
        .static_content(
            "/",
            HTML,
            &include_bytes!("../whiteboard/wwwroot/index.html")[..],
        )
        .static_content(
            "/whiteboard.js",
            JAVASCRIPT,
            &include_bytes!("../whiteboard/wwwroot/whiteboard.js")[..],
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stroke(points: usize) -> Stroke {
        Stroke {
            points: (0..points)
                .map(|i| Point {
                    x: i as f64,
                    y: 1.5,
                })
                .collect(),
            color: "#1e88e5".into(),
            width: 4.0,
        }
    }

    #[test]
    fn strokes_are_camel_case_json() {
        let json = serde_json::to_string(&stroke(1)).unwrap();
        assert_eq!(
            json,
            r##"{"points":[{"x":0.0,"y":1.5}],"color":"#1e88e5","width":4.0}"##
        );
        let parsed: Stroke =
            serde_json::from_str(r##"{"points":[{"x":0,"y":1.5}],"color":"#1e88e5","width":4}"##)
                .unwrap();
        assert_eq!(parsed, stroke(1));
    }

    #[test]
    fn checks_strokes() {
        assert!(stroke(1).check().is_ok());
        assert!(stroke(MAX_STROKE_POINTS).check().is_ok());
        assert!(stroke(0).check().is_err());
        assert!(stroke(MAX_STROKE_POINTS + 1).check().is_err());
        let mut bad = stroke(2);
        bad.points[1].y = f64::NAN;
        assert!(bad.check().is_err());
        for width in [0.0, -1.0, 100.5, f64::INFINITY] {
            let bad = Stroke { width, ..stroke(2) };
            assert!(bad.check().is_err(), "width {width}");
        }
        for color in ["#abc", "#A0b1C2"] {
            let good = Stroke {
                color: color.into(),
                ..stroke(2)
            };
            assert!(good.check().is_ok(), "color {color}");
        }
        for color in ["", "red", "#abcd", "#ggg", "abc", "#12345é"] {
            let bad = Stroke {
                color: color.into(),
                ..stroke(2)
            };
            assert!(bad.check().is_err(), "color {color}");
        }
    }

    #[test]
    fn the_drawing_forgets_the_oldest_strokes() {
        let mut drawing = Drawing::default();
        for i in 0..MAX_STROKES + 5 {
            let mut s = stroke(1);
            s.points[0].x = i as f64;
            drawing.push(s);
        }
        let strokes = drawing.strokes();
        assert_eq!(strokes.len(), MAX_STROKES);
        assert_eq!(strokes[0].points[0].x, 5.0);
        assert_eq!(drawing.points(), MAX_STROKES);

        drawing.clear();
        assert!(drawing.strokes().is_empty());
        assert_eq!(drawing.points(), 0);

        // The point bound: each stroke has MAX_STROKE_POINTS points.
        let fit = MAX_POINTS / MAX_STROKE_POINTS;
        for _ in 0..fit + 2 {
            drawing.push(stroke(MAX_STROKE_POINTS));
        }
        assert_eq!(drawing.strokes().len(), fit);
        assert_eq!(drawing.points(), fit * MAX_STROKE_POINTS);
    }
}
