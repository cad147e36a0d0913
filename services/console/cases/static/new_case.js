// The desk form: type blocks and categories follow the type, building -> unit -> room pickers
// from the estate's set-up, the household lookup, and the repeat-complaint check before saving.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("new-case");
    if (!form) return;
    var data = JSON.parse(document.getElementById("estate-data").textContent);
    var type = form.elements.type, category = form.elements.category;
    var building = form.elements.building, unit = form.elements.unit, room = form.elements.room;

    function showType() {
      form.querySelectorAll("[data-block]").forEach(function (block) {
        var on = block.dataset.block === type.value;
        block.hidden = !on;
        block.querySelectorAll("input,select").forEach(function (el) { el.disabled = !on; });
      });
      var labels = {};
      Array.prototype.forEach.call(category.options, function (o) { if (o.value) labels[o.value] = o.textContent; });
      if (!category.dataset.labels) category.dataset.labels = JSON.stringify(labels);
      labels = JSON.parse(category.dataset.labels);
      var keep = category.value || category.dataset.current;
      category.innerHTML = "";
      var blank = document.createElement("option"); blank.value = ""; blank.textContent = "—"; category.appendChild(blank);
      (data.categories[type.value] || []).forEach(function (c) {
        var o = document.createElement("option"); o.value = c; o.textContent = labels[c] || c;
        category.appendChild(o);
      });
      category.value = (data.categories[type.value] || []).indexOf(keep) >= 0 ? keep : "";
      category.dataset.current = "";
    }

    function fill(list, values) {
      var el = document.getElementById(list);
      el.innerHTML = "";
      values.forEach(function (v) { var o = document.createElement("option"); o.value = v; el.appendChild(o); });
    }
    function currentBuilding() {
      return (data.buildings || []).filter(function (b) { return String(b.id) === building.value; })[0];
    }
    function currentUnit() {
      var b = currentBuilding();
      return b ? (b.units || []).filter(function (u) { return String(u.id) === unit.value; })[0] : null;
    }
    function pickers() {
      fill("building-list", (data.buildings || []).map(function (b) { return b.id; }));
      var b = currentBuilding();
      fill("unit-list", b ? (b.units || []).map(function (u) { return u.id; }) : []);
      var u = currentUnit();
      fill("room-list", u ? (u.rooms || []) : []);
    }
    function household() {
      var h = form.elements.household_id;
      if (!h.dataset.touched && building.value && unit.value && room.value) {
        h.value = "H-" + building.value + "-" + unit.value + "-" + room.value;
      }
    }

    var panel = document.getElementById("household-panel");
    function lookup() {
      var h = form.elements.household_id.value.trim();
      if (!h) { panel.innerHTML = ""; return Promise.resolve(false); }
      var q = new URLSearchParams({household_id: h, estate_id: form.elements.estate_id.value, type: type.value,
                                   category: category.value});
      return fetch("/cases/household?" + q, {credentials: "same-origin"}).then(function (r) { return r.text(); })
        .then(function (html) { panel.innerHTML = html; return !!document.getElementById("repeat-warning"); });
    }

    type.addEventListener("change", showType);
    [building, unit, room].forEach(function (el) {
      el.addEventListener("input", function () { pickers(); household(); });
    });
    form.elements.household_id.addEventListener("input", function (e) { e.target.dataset.touched = "1"; });
    document.getElementById("household-lookup").addEventListener("click", lookup);
    form.addEventListener("submit", function (e) {
      if (type.value !== "complaint" || form.dataset.checked) return;
      e.preventDefault();
      lookup().then(function (repeat) {
        form.dataset.checked = "1";
        if (!repeat) form.submit();
        else document.getElementById("save-case").focus();
      }, function () { form.dataset.checked = "1"; form.submit(); });
    });
    showType();
    pickers();
  });
})();
