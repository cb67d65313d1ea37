// The admin's "API key created" page: a click on the key selects all of it, ready to copy.
// A file rather than an onclick attribute: the Content-Security-Policy runs no inline script.
document.querySelectorAll(".api-key-once").forEach((input) => {
  input.addEventListener("click", () => input.select());
});
