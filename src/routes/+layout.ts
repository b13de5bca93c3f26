// Pages render in the browser; their data comes from the JSON API and Socket.IO.
export const ssr = false;
