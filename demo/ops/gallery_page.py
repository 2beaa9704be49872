"""The gallery's pages, script and style: fixed text, no templates. What visitors made reaches a page only
as JSON that the script puts into text nodes and attributes (``textContent``, ``setAttribute``), never as
HTML, so a station or file name cannot run anything. The script polls ``/api/pictures`` every second
(a 304 when nothing changed) and keeps the nodes of pictures already shown.
"""

from __future__ import annotations

HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><link rel="stylesheet" href="/static/gallery.css"></head>
"""
FOOT = """<script src="/static/gallery.js"></script></body></html>
"""

PAGES = {
    "grid": HEAD.format(title="iGAN Live gallery") + """<body data-page="grid">
<header><h1>Painted by our visitors</h1><p id="count">loading...</p><a class="wall-link" href="/wall">wall</a></header>
<main id="pictures"></main>
""" + FOOT,
    "wall": HEAD.format(title="iGAN Live wall") + """<body data-page="wall" class="wall">
<main id="wall"><img id="slide-animation" alt=""><img id="slide-display" alt="">
<p id="slide-caption"></p></main>
""" + FOOT,
    "picture": HEAD.format(title="Your iGAN Live picture") + """<body data-page="picture">
<header><h1>Your picture</h1><a class="wall-link" href="/">all pictures</a></header>
<main id="picture"><p>loading...</p></main>
""" + FOOT,
}

SCRIPT = r""""use strict";
const page = document.body.dataset.page;
const WALL_SECONDS = 8, WALL_COUNT = 12;
let etag = null, pictures = [];

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}
function when(picture) { return new Date(picture.saved_at * 1000).toLocaleString(); }
function still(picture) { return picture.display || picture.image; }

function card(picture) {
  const figure = el("figure", {"class": "picture", "data-id": picture.id});
  const link = el("a", {href: picture.page});
  const image = el("img", {src: still(picture), alt: "a picture painted at " + picture.station,
                           loading: "lazy", width: "256", height: "256"});
  if (picture.animation) {  // the edit plays while the pointer is over the picture
    image.addEventListener("mouseenter", () => image.setAttribute("src", picture.animation));
    image.addEventListener("mouseleave", () => image.setAttribute("src", still(picture)));
  }
  link.append(image);
  const caption = el("figcaption");
  caption.append(el("span", {"class": "station"}, picture.station), el("time", {}, when(picture)));
  const links = el("span", {"class": "links"});
  if (picture.animation) links.append(el("a", {href: picture.animation}, "animation"));
  if (picture.session) links.append(el("a", {href: picture.session, download: ""}, "session"));
  if (picture.photo) links.append(el("a", {href: picture.photo}, "photo"));
  caption.append(links);
  figure.append(link, caption);
  return figure;
}

const shown = new Map();
function renderGrid() {
  const main = document.getElementById("pictures");
  const ids = new Set(pictures.map(picture => picture.id));
  for (const [id, node] of shown) if (!ids.has(id)) { node.remove(); shown.delete(id); }
  let previous = null;
  for (const picture of pictures) {
    const key = JSON.stringify(picture);
    let node = shown.get(picture.id);
    if (!node || node.dataset.key !== key) {
      const fresh = card(picture);
      fresh.dataset.key = key;
      if (node) node.replaceWith(fresh);
      node = fresh;
      shown.set(picture.id, node);
    }
    if (previous === null ? main.firstChild !== node : previous.nextSibling !== node) {
      if (previous === null) main.prepend(node); else previous.after(node);
    }
    previous = node;
  }
  document.getElementById("count").textContent = pictures.length + (pictures.length === 1 ? " picture" : " pictures");
}

let slide = 0, newest = null, slideTimer = null;
function showSlide() {
  const list = pictures.slice(0, WALL_COUNT);
  if (!list.length) return;
  const picture = list[slide % list.length];
  document.getElementById("slide-animation").setAttribute("src", picture.animation || still(picture));
  document.getElementById("slide-display").setAttribute("src", still(picture));
  document.getElementById("slide-caption").textContent = picture.station + " \u00b7 " + when(picture);
}
function renderWall() {
  const first = pictures.length ? pictures[0].id : null;
  if (first !== newest) { newest = first; slide = 0; showSlide(); }  // a new picture goes up at once
  if (slideTimer === null) slideTimer = setInterval(() => { slide += 1; showSlide(); }, WALL_SECONDS * 1000);
}

async function poll() {
  try {
    const response = await fetch("/api/pictures", {headers: etag ? {"If-None-Match": etag} : {}, cache: "no-store"});
    if (response.status === 200) {
      etag = response.headers.get("ETag");
      pictures = (await response.json()).pictures;
      if (page === "grid") renderGrid(); else renderWall();
    }
  } catch (error) { /* the gallery is restarting: the next poll tries again */ }
  setTimeout(poll, 1000);
}

async function showPicture(tries) {
  const id = location.pathname.split("/").pop();
  const main = document.getElementById("picture");
  try {
    const response = await fetch("/api/pictures/" + encodeURIComponent(id), {cache: "no-store"});
    if (!response.ok) { main.textContent = "This picture is no longer shown."; return; }
    const picture = await response.json();
    main.replaceChildren();
    const row = el("div", {"class": "pair"});
    if (picture.animation) row.append(el("img", {src: picture.animation, alt: "how the picture was painted"}));
    row.append(el("img", {src: still(picture), alt: "the finished picture"}));
    const links = el("p", {"class": "links"});
    links.append(el("a", {href: still(picture), download: "igan-picture.jpg"}, "download the picture"));
    if (picture.animation) links.append(el("a", {href: picture.animation, download: "igan-edit.webp"}, "download the animation"));
    if (picture.session) links.append(el("a", {href: picture.session, download: ""}, "the session file"));
    main.append(row, el("p", {}, picture.station + " \u00b7 " + when(picture)), links);
    if (!picture.animation && tries > 0) setTimeout(() => showPicture(tries - 1), 1000);  // it is still being written
  } catch (error) { setTimeout(() => showPicture(tries), 2000); }
}

if (page === "picture") showPicture(20); else poll();
"""

STYLE = """body { margin: 0; background: #111318; color: #eee; font: 16px/1.4 system-ui, sans-serif; }
header { display: flex; align-items: baseline; gap: 1em; padding: 0.8em 1.2em; }
h1 { margin: 0; font-size: 1.5em; }
a { color: #9cf; }
.wall-link { margin-left: auto; }
#pictures { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 14px; padding: 0 1.2em 2em; }
.picture { margin: 0; background: #1c1f27; border-radius: 8px; overflow: hidden; }
.picture img { display: block; width: 100%; height: auto; aspect-ratio: 1; image-rendering: auto; }
figcaption { display: flex; flex-wrap: wrap; gap: 0.2em 0.8em; padding: 0.5em 0.7em; font-size: 0.85em; overflow-wrap: anywhere; }
.station { font-weight: 600; }
.links { display: flex; gap: 0.8em; }
.pair { display: flex; flex-wrap: wrap; gap: 12px; }
.pair img { width: min(90vw, 420px); height: auto; border-radius: 8px; }
#picture { padding: 0 1.2em 2em; }
body.wall { background: #000; overflow: hidden; }
#wall { position: fixed; inset: 0; display: flex; align-items: center; justify-content: center; gap: 3vw; }
#wall img { height: 80vh; width: 80vh; max-width: 46vw; max-height: 46vw; object-fit: contain; border-radius: 12px; }
#wall img:not([src]) { visibility: hidden; }
#slide-caption { position: fixed; bottom: 2vh; width: 100%; text-align: center; font-size: 2.2vh; color: #ccc; }
"""

ASSETS = {"gallery.js": (SCRIPT, "application/javascript"), "gallery.css": (STYLE, "text/css")}
