// One colour per party, the same in every chart and view: picked from the party's name, so it does
// not change when the ranking (or the time range) does.
const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4f46e5', '#0d9488', '#b45309', '#7c3aed'];
export const OTHER_COLOR = '#64748b';

export function partyColor(name) {
  if (name === null || name === undefined || name === 'other') return OTHER_COLOR;
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

/** Time of day on a 24-hour clock (HH:MM). */
export const hhmm = (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
