"""Reading a rendered report back with the stdlib HTML parser, for structural assertions."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict[str, str | None]
    parent: Element | None
    children: list[Element] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join("".join(self.parts).split())

    def attr(self, name: str) -> str:
        return self.attrs.get(name) or ""

    def classes(self) -> set[str]:
        return set(self.attr("class").split())

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        out = []
        for child in self.children:
            if (tag is None or child.tag == tag) and (cls is None or cls in child.classes()):
                out.append(child)
            out.extend(child.find_all(tag, cls))
        return out

    def find(self, tag: str | None = None, cls: str | None = None) -> Element:
        found = self.find_all(tag, cls)
        assert found, f"no <{tag} class={cls}> inside <{self.tag}>"
        return found[0]

    def ancestors(self) -> list[Element]:
        out, node = [], self.parent
        while node is not None:
            out.append(node)
            node = node.parent
        return out


class Document(HTMLParser):
    """The element tree; ``errors`` lists every unbalanced or misnested tag."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.stack = [self.root]
        self.errors: list[str] = []
        self.elements: list[Element] = []
        self.declarations: list[str] = []
        self.feed(html)
        self.close()
        if len(self.stack) > 1:
            self.errors.append(f"unclosed: {[e.tag for e in self.stack[1:]]}")

    def handle_decl(self, decl: str) -> None:
        self.declarations.append(decl)

    def _element(self, tag: str, attrs: list[tuple[str, str | None]]) -> Element:
        el = Element(tag, dict(attrs), self.stack[-1])
        if len(el.attrs) != len(attrs):
            self.errors.append(f"duplicate attribute in <{tag}>")
        self.stack[-1].children.append(el)
        self.elements.append(el)
        return el

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = self._element(tag, attrs)
        if tag not in VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._element(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            self.errors.append(f"end tag for void element </{tag}>")
        elif self.stack[-1].tag != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1].tag}>")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack[-1].tag == "style":
            return
        for el in self.stack:
            el.parts.append(data)

    # convenience
    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        return self.root.find_all(tag, cls)

    def find(self, tag: str | None = None, cls: str | None = None) -> Element:
        return self.root.find(tag, cls)

    def by_id(self) -> dict[str, Element]:
        return {e.attr("id"): e for e in self.elements if e.attr("id")}

    @property
    def text(self) -> str:
        return self.root.text
