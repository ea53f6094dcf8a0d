"""Export files written by the tests: WXR, Disqus and Isso, hostile ones included."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

DATA = Path(__file__).parent / "data" / "archive"


@dataclass
class WpComment:
    id: int
    content: str = "A comment."
    approved: str = "1"
    parent: int = 0
    author: str = "Reader"
    email: str = "reader@example.org"
    url: str = ""
    ip: str = "203.0.113.9"
    date_gmt: str = "2020-05-01 10:00:00"
    date: str = "2020-05-01 12:00:00"
    type: str = ""


@dataclass
class WpPost:
    id: int
    title: str = "A post"
    name: str = ""
    content: str = "<p>The body.</p>"
    excerpt: str = ""
    status: str = "publish"
    type: str = "post"
    date_gmt: str = "2020-05-01 09:00:00"
    pub_date: str = ""
    link: str = ""
    creator: str = "jdoe"
    categories: list[tuple[str, str]] = field(default_factory=list)  # (domain, name)
    comments: list[WpComment] = field(default_factory=list)


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def wxr(posts: list[WpPost], *, version: str = "1.2", head: str = "") -> str:
    """A WordPress export as WordPress writes one."""
    items = []
    for p in posts:
        comments = "".join(
            f"""
      <wp:comment>
        <wp:comment_id>{c.id}</wp:comment_id>
        <wp:comment_author>{_cdata(c.author)}</wp:comment_author>
        <wp:comment_author_email>{escape(c.email)}</wp:comment_author_email>
        <wp:comment_author_url>{escape(c.url)}</wp:comment_author_url>
        <wp:comment_author_IP>{escape(c.ip)}</wp:comment_author_IP>
        <wp:comment_date>{c.date}</wp:comment_date>
        <wp:comment_date_gmt>{c.date_gmt}</wp:comment_date_gmt>
        <wp:comment_content>{_cdata(c.content)}</wp:comment_content>
        <wp:comment_approved>{c.approved}</wp:comment_approved>
        <wp:comment_type>{c.type}</wp:comment_type>
        <wp:comment_parent>{c.parent}</wp:comment_parent>
        <wp:comment_user_id>0</wp:comment_user_id>
      </wp:comment>"""
            for c in p.comments
        )
        categories = "".join(
            f'<category domain="{d}" nicename="{n.lower()}">{_cdata(n)}</category>'
            for d, n in p.categories
        )
        link = p.link or f"https://old.example.org/?p={p.id}"
        items.append(
            f"""
    <item>
      <title>{escape(p.title)}</title>
      <link>{escape(link)}</link>
      <pubDate>{p.pub_date}</pubDate>
      <dc:creator>{_cdata(p.creator)}</dc:creator>
      <content:encoded>{_cdata(p.content)}</content:encoded>
      <excerpt:encoded>{_cdata(p.excerpt)}</excerpt:encoded>
      <wp:post_id>{p.id}</wp:post_id>
      <wp:post_date_gmt>{p.date_gmt}</wp:post_date_gmt>
      <wp:comment_status>open</wp:comment_status>
      <wp:post_name>{_cdata(p.name)}</wp:post_name>
      <wp:status>{p.status}</wp:status>
      <wp:post_type>{p.type}</wp:post_type>
      {categories}{comments}
    </item>"""
        )
    return f"""<?xml version="1.0" encoding="UTF-8" ?>{head}
<rss version="2.0"
  xmlns:excerpt="http://wordpress.org/export/{version}/excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:wp="http://wordpress.org/export/{version}/">
  <channel>
    <title>Old site</title>
    <link>https://old.example.org</link>
    <wp:wxr_version>{version}</wp:wxr_version>
    <wp:base_site_url>https://old.example.org</wp:base_site_url>
    <wp:author><wp:author_login>jdoe</wp:author_login>
      <wp:author_display_name>{_cdata("Jane Doe")}</wp:author_display_name></wp:author>
    {"".join(items)}
  </channel>
</rss>
"""


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


ISSO_SCHEMA = """
CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
CREATE TABLE comments (
    tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
    created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR,
    text VARCHAR, author VARCHAR, email VARCHAR, website VARCHAR,
    likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL,
    notification INTEGER NOT NULL DEFAULT 0);
CREATE TABLE preferences (key VARCHAR PRIMARY KEY, value VARCHAR);
"""


def isso_db(path: Path, threads: list[tuple], comments: list[tuple]) -> Path:
    """An Isso database with Isso's own schema: threads (id, uri, title); comments
    (tid, id, parent, created, mode, remote_addr, text, author, email, website)."""
    connection = sqlite3.connect(path)
    connection.executescript(ISSO_SCHEMA)
    connection.executemany("INSERT INTO threads VALUES (?, ?, ?)", threads)
    connection.executemany(
        "INSERT INTO comments (tid, id, parent, created, mode, remote_addr, text, author,"
        " email, website, voters) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, x'00')",
        comments,
    )
    connection.commit()
    connection.close()
    return path
