// Forms whose answer takes a while (findings over every device, forecasts) say so while
// the next page is computed: <form data-busy="计算中…">.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.matches || !form.matches("form[data-busy]")) return;
  var status = form.querySelector(".busy");
  if (!status) {
    status = document.createElement("span");
    status.className = "busy";
    status.setAttribute("role", "status");
    form.appendChild(status);
  }
  status.textContent = " " + form.dataset.busy;
});
