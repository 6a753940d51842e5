// Chat: conversations with search, sort and paging; one conversation's messages; sending with the reply streamed
// in (POST /chat/message with "stream": true); rename; delete.
import { h, fill, field, notice, when, link, button, reportError, clearError } from "./dom.js";
import { get, call, events, path } from "./api.js";
import { pagerButtons } from "./models.js";

export function render(main, parts) {
  const controller = new AbortController();
  const selected = parts[0] || null;
  let offset = 0;
  const limit = 15;
  const search = h("input", { type: "search", name: "search", placeholder: "Title or message" });
  const sort = h("select", { name: "sort" }, h("option", { value: "updated_at" }, "Last updated"),
    h("option", { value: "created_at" }, "Created"));
  const order = h("select", { name: "order" }, h("option", { value: "desc" }, "Newest first"),
    h("option", { value: "asc" }, "Oldest first"));
  const list = h("ul", { class: "conversations", id: "conversation-list", "aria-label": "Conversations" });
  const pager = h("div", { class: "pager" });
  const pane = h("section", { class: "conversation", "aria-label": "Conversation" });
  fill(main, h("h1", {}, "Chat"), h("div", { class: "split" },
    h("aside", { class: "card" }, h("div", { class: "toolbar" }, h("a", { href: "#/chat", class: "button" }, "New conversation")),
      field("Search", search), h("div", { class: "row" }, field("Sort by", sort), field("Order", order)), list, pager),
    pane));

  let typing = null;
  search.addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(() => { offset = 0; loadList(); }, 250); });
  sort.addEventListener("change", () => { offset = 0; loadList(); });
  order.addEventListener("change", () => { offset = 0; loadList(); });

  async function loadList() {
    try {
      const page = await get("/chat/histories", { search: search.value.trim(), sort: sort.value, order: order.value, limit, offset });
      fill(list, page.data.length ? page.data.map((c) => h("li", { class: c.id === selected ? "current" : "" },
        link(c.title || "(untitled)", "chat", c.id), h("small", { class: "muted" }, ` ${c.message_count} messages, `, when(c.updated_at))))
        : h("li", { class: "muted" }, "No conversations."));
      fill(pager, pagerButtons(page.pagination, (next) => { offset = next; loadList(); }));
    } catch (e) { reportError(e); }
  }
  loadList();
  conversation(pane, selected, controller.signal, loadList);
  return () => { controller.abort(); clearTimeout(typing); };
}

function bubble(sender, content, timestamp) {
  return h("li", { class: `message ${sender}` }, h("span", { class: "sender" }, sender === "ai" ? "Assistant" : "You"),
    h("p", { class: "content" }, content), timestamp ? when(timestamp) : null);
}

function conversation(pane, id, signal, refreshList) {
  const messages = h("ol", { class: "messages", id: "messages", "aria-live": "polite" });
  const input = h("textarea", { name: "message", rows: 3, required: true });
  const send = h("button", { type: "submit", class: "primary" }, "Send");
  const form = h("form", { class: "compose" }, field("Message", input), send);
  const header = h("div", { class: "conversation-head" });
  fill(pane, header, messages, form);

  if (id) {
    get(path("chat", "histories", id), { limit: 500 }).then((answer) => {
      const c = answer.data;
      titleBar(header, c, refreshList);
      fill(messages, c.messages.length < c.message_count
        ? h("li", { class: "muted" }, `The first ${c.messages.length} of ${c.message_count} messages.`) : null,
        c.messages.map((m) => bubble(m.sender, m.content, m.timestamp)));
    }).catch(reportError);
  } else {
    fill(header, h("h2", {}, "New conversation"));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    clearError();
    send.disabled = true;
    messages.append(bubble("user", text));
    const reply = h("p", { class: "content" });
    const replyItem = h("li", { class: "message ai streaming" }, h("span", { class: "sender" }, "Assistant"), reply);
    messages.append(replyItem);
    input.value = "";
    let done = null;
    try {
      await events("POST", "/chat/message", {
        body: { message: text, conversation_id: id || undefined, stream: true }, signal,
        onEvent: (e) => {
          const data = JSON.parse(e.data);
          if (data.delta != null) reply.append(data.delta);
          else if (data.done) done = data;
          else if (data.error) throw new Error(data.error.message);
        },
      });
      replyItem.classList.remove("streaming");
      if (done && !id) location.hash = "#/chat/" + encodeURIComponent(done.conversation_id);
      else refreshList();
    } catch (e) {
      if (!signal.aborted) reportError(e);
    } finally { send.disabled = false; }
  });
}

function titleBar(header, c, refreshList) {
  const title = h("h2", { id: "conversation-title" }, c.title || "(untitled)");
  const rename = button("Rename", () => {
    const input = h("input", { name: "title", value: c.title, required: true });
    const form = h("form", { class: "row" }, field("New title", input), h("button", { type: "submit", class: "primary" }, "Save"),
      button("Cancel", () => titleBar(header, c, refreshList)));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const answer = await call("PUT", path("chat", "histories", c.id, "title"), { body: { title: input.value } });
        c.title = answer.data.title;
        titleBar(header, c, refreshList);
        refreshList();
      } catch (e) { reportError(e); }
    });
    fill(header, form);
    input.focus();
  });
  const remove = button("Delete", async () => {
    if (!confirm(`Delete the conversation "${c.title}" and its messages?`)) return;
    await call("DELETE", path("chat", "histories", c.id));
    location.hash = "#/chat";
  }, { kind: "danger" });
  fill(header, title, h("div", { class: "toolbar" }, rename, remove, h("small", { class: "muted" }, `${c.message_count} messages`)));
}
