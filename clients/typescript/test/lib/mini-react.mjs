// mini-react.mjs - just enough of React (useRef, useEffect, the automatic JSX runtime) to mount
// the guide's React example once in a browser page without React itself: function components
// are called, host elements created with their props (ref objects filled), effects run after
// mounting. It proves the example's wiring (ref -> element.client), not React.
const effects = [];
export function useRef(initial) {
  return { current: initial };
}
export function useEffect(fn) {
  effects.push(fn);
}
export function jsx(type, props) {
  return { type, props: props ?? {} };
}
export const jsxs = jsx;
export const Fragment = 'fragment';
export function render(node, parent) {
  if (typeof node.type === 'function') return render(node.type(node.props), parent);
  const el = document.createElement(node.type);
  for (const [k, v] of Object.entries(node.props)) {
    if (k === 'ref') continue;
    if (k !== 'children') el.setAttribute(k, String(v));
  }
  parent.append(el);
  if (node.props.ref) node.props.ref.current = el;
  while (effects.length) effects.shift()();
  return el;
}
export default { useRef, useEffect };
