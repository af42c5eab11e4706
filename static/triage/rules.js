// The rule form asks the tag key only when the rule is matched on a tag. Without JavaScript the
// field is always there, and the server refuses a tag rule without its key all the same.
for (const form of document.querySelectorAll("form.rule-form")) {
  const field = form.elements.field;
  const key = form.elements.tag_key;
  if (!field || !key) continue;
  const row = key.closest("div");
  const show = () => {
    row.hidden = field.value !== "tag";
  };
  field.addEventListener("change", show);
  show();
}
